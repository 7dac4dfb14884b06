// papersearch page: what the page says, in Korean, for every notice and error the API can
// send. The API words its `detail` in English (for logs, the CLI and scripts) and adds a
// machine-readable `code` with the `params` it was made from; the page words the code
// itself and keeps the English detail as a tooltip. tests/test_web_messages.py walks every
// code the server can raise through errorText() in a real browser.
"use strict";

// Korean notices keyed by the API's notice_code; the English `notice` stays as a tooltip.
const NOTICES = {
  dense_unavailable: "임베딩 검색을 쓸 수 없어 BM25로만 검색했습니다.",
  dense_pending: "임베딩을 만드는 중이라 지금은 BM25로만 검색했습니다. 끝나면 하이브리드 검색으로 바뀝니다.",
  legs_missing: "일부 임베딩 모델을 쓸 수 없어 나머지 모델로 검색했습니다.",
};

// Request fields by the names the API uses (query parameters and JSON body keys).
const FIELDS = {
  q: "검색어", query: "검색어", text: "붙여 넣은 글", k: "결과 수", offset: "건너뛸 결과 수",
  mode: "검색 방식", date_from: "시작 날짜", date_to: "끝 날짜", min_upvotes: "최소 추천 수",
  sort: "정렬", fusion: "결합 방식", rrf_k: "RRF k", weights: "가중치", ids: "고른 논문", wait: "wait",
};
const field = (name) => FIELDS[String(name || "").split(".").pop()] || "요청 값";
const list = (xs) => (Array.isArray(xs) ? xs.join(", ") : "");

// How a request field failed the API's schema (pydantic's error types).
const INVALID = {
  greater_than_equal: (p) => `${field(p.field)} 값은 ${p.ge} 이상이어야 합니다.`,
  greater_than: (p) => `${field(p.field)} 값은 ${p.gt}보다 커야 합니다.`,
  less_than_equal: (p) => `${field(p.field)} 값은 ${p.le} 이하여야 합니다.`,
  less_than: (p) => `${field(p.field)} 값은 ${p.lt}보다 작아야 합니다.`,
  int_parsing: (p) => `${field(p.field)}에는 정수를 입력하세요.`,
  int_type: (p) => `${field(p.field)}에는 정수를 입력하세요.`,
  int_from_float: (p) => `${field(p.field)}에는 정수를 입력하세요.`,
  float_parsing: (p) => `${field(p.field)}에는 숫자를 입력하세요.`,
  bool_parsing: (p) => `${field(p.field)}에는 true 또는 false를 입력하세요.`,
  string_too_long: (p) => `${field(p.field)}: 최대 ${p.max_length}자까지 입력할 수 있습니다.`,
  string_too_short: (p) => `${field(p.field)}: 비어 있습니다.`,
  too_long: (p) => (p.field === "ids" ? `${field(p.field)}: 최대 ${p.max_length}편까지 고를 수 있습니다.` : INVALID.string_too_long(p)),
  too_short: (p) => (p.field === "ids" ? `${field(p.field)}: 하나 이상 골라야 합니다.` : INVALID.string_too_short(p)),
  missing: (p) => `${field(p.field)}: 값이 필요합니다.`,
  literal_error: (p) => `${field(p.field)}: 알 수 없는 값입니다 (가능한 값: ${String(p.expected || "").replace(/'/g, "").replace(/ or /g, ", ")}).`,
  string_pattern_mismatch: (p) => (p.field === "weights" ? ERRORS.bad_weights(p) : `${field(p.field)}: 형식이 올바르지 않습니다.`),
  bad_weights: (p) => ERRORS.bad_weights(p),
  out_of_range: (p) => ERRORS.out_of_range(p),
  similar_needs_input: () => ERRORS.similar_needs_input(),
  similar_text_and_ids: () => "글과 논문 목록 중 하나만 주세요.",
  json_invalid: () => "요청 본문이 올바른 JSON이 아닙니다.",
  model_attributes_type: () => "요청 본문이 올바른 JSON 객체가 아닙니다.",
  dict_type: () => "요청 본문이 올바른 JSON 객체가 아닙니다.",
  extra_forbidden: (p) => `알 수 없는 항목입니다: ${p.field}`,
  string_type: (p) => `${field(p.field)}에는 글자를 입력하세요.`,
  list_type: (p) => `${field(p.field)}에는 목록을 입력하세요.`,
  finite_number: (p) => `${field(p.field)}에는 유한한 숫자를 입력하세요.`,
};

// Every `code` of an API error (search/core/errors.py and papersearch/api_errors.py).
const ERRORS = {
  empty_text: (p) => (p.what === "text" ? "붙여 넣은 글이 비어 있습니다." : "검색어를 입력하세요."),
  text_too_long: (p) => `${field(p.what)}의 길이가 ${p.length}자로 너무 깁니다 (최대 ${p.limit}자).`,
  out_of_range: (p) => `${field(p.field)}${p.leg ? ` (${p.leg})` : ""} 값은 ${p.min}에서 ${p.max} 사이여야 합니다.`,
  bad_date: (p) => `올바른 날짜가 아닙니다: ‘${p.value}’. YYYY-MM-DD 형식의 실제 날짜를 입력하세요.`,
  date_range_inverted: (p) => `시작 날짜(${p.date_from})가 끝 날짜(${p.date_to})보다 늦어 맞는 논문이 없습니다. 두 날짜를 바꿔 보세요.`,
  unknown_mode: (p) => `알 수 없는 검색 방식입니다: ‘${p.value}’ (가능한 방식: ${list(p.known)}).`,
  unknown_sort: (p) => `알 수 없는 정렬입니다: ‘${p.value}’ (가능한 정렬: ${list(p.known)}).`,
  unknown_fusion: (p) => `알 수 없는 결합 방식입니다: ‘${p.value}’ (가능한 방식: ${list(p.known)}).`,
  unknown_leg: (p) => `이 인덱스에 없는 검색 경로의 가중치입니다: ${p.value} (있는 경로: ${list(p.known)}).`,
  bad_weights: (p) => `가중치 형식이 올바르지 않습니다${p.value ? `: ‘${p.value}’` : ""}. 예: bm25=1,e5=0.5`,
  similar_needs_input: () => "비슷한 논문을 찾을 논문이나 글을 주세요.",
  too_many_ids: (p) => `논문은 한 번에 ${p.limit}편까지 고를 수 있습니다 (${p.count}편을 골랐습니다).`,
  invalid_query: () => "요청을 처리할 수 없습니다. 입력을 확인해 주세요.",
  paper_search_error: () => "요청을 처리할 수 없습니다.",
  invalid_param: (p) => (INVALID[p.type] || ((q) => `${field(q.field)}: 값이 올바르지 않습니다.`))(p),
  paper_not_found: (p) => `인덱스에 ID가 ‘${p.id || ""}’인 논문이 없습니다.`,
  index_not_found: () => "불러온 인덱스가 없습니다. 인덱스를 만든 뒤 다시 시도하세요.",
  index_corrupt: () => "인덱스 파일을 읽을 수 없습니다. 인덱스를 다시 만들어 주세요.",
  index_incompatible: () => "이 인덱스는 지금 버전의 검색기와 맞지 않습니다. 인덱스를 다시 만들어 주세요.",
  model_unavailable: () => "임베딩 모델을 불러올 수 없습니다.",
  model_mismatch: () => "인덱스를 만든 임베딩 모델과 다른 모델을 요청했습니다.",
  build_locked: () => "다른 빌드가 진행 중입니다. 잠시 뒤 다시 시도하세요.",
  gate_failed: () => "새 빌드가 품질 기준을 넘지 못해 적용되지 않았습니다.",
  no_papers_found: () => "다이제스트에서 논문을 하나도 찾지 못했습니다.",
  source_not_found: () => "다이제스트 폴더나 파일이 없습니다.",
  milvus_unavailable: () => "Milvus 서버에 연결할 수 없습니다.",
  server_unavailable: () => "검색 서버에 연결할 수 없습니다.",
  not_found: () => "요청한 주소가 없습니다.",
  forbidden: () => "이 요청은 허용되지 않습니다.",
  method_not_allowed: () => "허용되지 않는 요청 방식입니다.",
  internal_error: () => "서버 내부 오류가 났습니다. 잠시 뒤 다시 시도하세요.",
};

// An API error: the HTTP status, the machine-readable code and params, the English detail.
class ApiError extends Error {
  constructor(status, body) {
    super(body && typeof body.detail === "string" ? body.detail : `HTTP ${status}`);
    this.status = status;
    this.code = body && typeof body.code === "string" ? body.code : null;
    this.params = body && body.params && typeof body.params === "object" ? body.params : {};
  }
}

// What the page says for an error thrown by api() (or by fetch itself).
function errorText(e) {
  if (e instanceof ApiError) {
    const word = ERRORS[e.code];
    if (word) { try { return word(e.params); } catch (_) { /* params of another shape: the generic line */ } }
    return `요청을 처리하지 못했습니다 (HTTP ${e.status}).`;
  }
  return "서버에 연결할 수 없습니다. 서버가 켜져 있는지 확인하세요.";
}

// A notice's Korean line: by its code, else by its shape in older servers (a mode other
// than the one asked for meant dense was off), else a generic line (never raw English).
function noticeText(data) {
  if (!data || !(data.notice_code || data.notice)) return null;
  if (data.notice_code) return NOTICES[data.notice_code] || "일부 검색 경로를 쓸 수 없었습니다.";
  return data.mode !== data.requested_mode ? NOTICES.dense_unavailable : "일부 검색 경로를 쓸 수 없었습니다.";
}
