// papersearch page: plain JS over the JSON API, no build step.
// Everything a search depends on (query, mode, filters, sort, "papers like these") lives in
// the URL, so a search can be shared and the back button works; /paper/{id} is the paper view.
"use strict";

const PAGE = 10;
const $ = (sel) => document.querySelector(sel);
const state = { q: "", mode: "hybrid", shown: 0, total: 0, seq: 0, selected: new Map() };

// NOTICES, ApiError, errorText and noticeText: messages.js, loaded first.
const MODE_LABELS = { hybrid: "하이브리드", bm25: "BM25", dense: "임베딩" };
const SORTS = ["relevance", "newest", "upvotes"];

// ---- small helpers -------------------------------------------------------------------

async function api(path, options) {
  const res = await fetch(path, options);
  let body = null;
  try { body = await res.json(); } catch (_) { /* not JSON: fall through to the status */ }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

function show(el, on) { el.hidden = !on; }

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

// Links come from digests. Defence in depth: the index stores only http(s) paper links,
// but a link the page did not check could run script (javascript:, data:), so only
// http(s) URLs become hrefs.
function safeHref(url) {
  try {
    const u = new URL(url, location.href);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch (_) { return null; }
}

function paperHref(id) { return `/paper/${encodeURIComponent(id)}`; }

function sourceLabel(url) {
  if (!url) return "원문";
  if (url.includes("arxiv.org")) return "arXiv";
  if (url.includes("huggingface.co")) return "Hugging Face";
  return "원문";
}

// An error thrown by api() (its Korean line; the English detail as a tooltip), or a line
// of the page's own; "" clears it.
function setError(e) {
  const box = $("#error");
  box.textContent = e ? `오류: ${typeof e === "string" ? e : errorText(e)}` : "";
  box.title = e && typeof e !== "string" ? e.message : "";
  show(box, Boolean(e));
}

function errorLine(e) { return el("span", { text: `오류: ${errorText(e)}`, title: e.message }); }

function setNotice(data) {
  const msg = noticeText(data);
  const box = $("#notice");
  box.textContent = msg ? `알림: ${msg}` : "";
  box.title = data && data.notice ? data.notice : "";
  show(box, Boolean(msg));
}

function modeLabel(m) { return MODE_LABELS[m] || `임베딩 (${m})`; }

function mode() {
  const r = document.querySelector('input[name="mode"]:checked');
  return r ? r.value : "hybrid";
}

function filters() {
  return {
    date_from: $("#date-from").value,
    date_to: $("#date-to").value,
    min_upvotes: $("#min-upvotes").value,
    sort: $("#sort").value,
  };
}

function hasFilters(f) { return Boolean(f.date_from || f.date_to || f.min_upvotes || f.sort !== "relevance"); }

// The closed filter box says which filters are on, and opens by itself when any is.
function syncFilterBox() {
  const f = filters();
  const parts = [];
  if (f.date_from || f.date_to) parts.push(`${f.date_from || "…"} ~ ${f.date_to || "…"}`);
  if (f.min_upvotes) parts.push(`추천 ≥ ${f.min_upvotes}`);
  if (f.sort !== "relevance") parts.push($("#sort").selectedOptions[0].textContent);
  $("#filter-summary").textContent = parts.length ? `· ${parts.join(" · ")}` : "";
  if (parts.length) $("#filter-box").open = true;
  show($("#clear-filters"), parts.length > 0);
}

// The URL of the current search: only what differs from the defaults.
function searchURL(q, m, f) {
  const p = new URLSearchParams();
  if (q) p.set("q", q);
  if (m && m !== "hybrid") p.set("mode", m);
  if (f.date_from) p.set("from", f.date_from);
  if (f.date_to) p.set("to", f.date_to);
  if (f.min_upvotes) p.set("up", f.min_upvotes);
  if (f.sort && f.sort !== "relevance") p.set("sort", f.sort);
  const s = p.toString();
  return s ? `/?${s}` : "/";
}

// ---- search --------------------------------------------------------------------------

function resetToStart() {
  state.fromURL = false;
  state.seq++; // answers still on their way are stale
  state.q = "";
  $("#results").replaceChildren();
  $("#stats").textContent = "";
  show($("#empty"), false);
  show($("#more"), false);
  show($("#like-view"), false);
  setError("");
  setNotice(null);
  show($("#intro"), true);
  history.replaceState(null, "", searchURL("", mode(), filters()));
}

async function search(append = false) {
  if (!state.fromURL) showURLProblems([]);  // the user changed something: the URL's note is old
  state.fromURL = false;
  const q = $("#q").value.trim();
  if (!q && !append) { resetToStart(); return; } // a blank query clears the last answer
  const seq = ++state.seq;
  const f = filters();
  if (!append) { state.q = q; state.mode = mode(); state.shown = 0; }
  syncFilterBox();
  const params = new URLSearchParams({ q: state.q, mode: state.mode, k: PAGE, offset: state.shown });
  for (const [k, v] of Object.entries(f)) if (v) params.set(k, v);
  const url = searchURL(state.q, state.mode, f);
  if (location.pathname + location.search !== url) history.pushState(null, "", url);
  $("#results").classList.add("loading");
  setError("");
  try {
    const data = await api(`/api/search?${params}`);
    if (seq !== state.seq) return;
    render(data, append);
  } catch (e) {
    if (seq !== state.seq) return;
    if (!append) { $("#results").replaceChildren(); $("#stats").textContent = ""; }
    show($("#empty"), false);
    show($("#more"), false);
    setError(e);
  } finally {
    if (seq === state.seq) $("#results").classList.remove("loading");
  }
}

function render(data, append) {
  show($("#intro"), false);
  show($("#like-view"), false);
  setNotice(data);
  const list = $("#results");
  if (!append) list.replaceChildren();
  for (const hit of data.results) list.append(hitNode(hit));
  state.shown = data.offset + data.results.length;
  state.total = data.total;
  const empty = state.shown === 0;
  const nearest = Boolean(data.no_match) && !empty; // no good match: the nearest papers, as such
  list.classList.toggle("nearest", nearest);
  $("#empty").textContent = empty
    ? `‘${data.query}’에 대한 결과가 없습니다. 다른 표현이나 영어 용어로 검색하거나 필터를 줄여 보세요.`
    : nearest ? `‘${data.query}’와 잘 맞는 논문이 없습니다. 가장 가까운 논문 ${data.results.length}건을 대신 보여 드립니다.` : "";
  show($("#empty"), empty || nearest);
  if (nearest) { $("#stats").textContent = ""; show($("#more"), false); return; }
  const sortNote = $("#sort").value !== "relevance" ? ` · ${$("#sort").selectedOptions[0].textContent}` : "";
  $("#stats").textContent = empty ? "" : `${data.total}건 중 ${state.shown}건 · ${modeLabel(data.mode)}${sortNote}`;
  show($("#more"), state.shown < state.total);
}

function metaNode(hit) {
  const meta = el("div", { class: "meta" });
  meta.append(el("span", { class: "id", text: hit.id }), el("span", { class: "date", text: hit.date || "날짜 없음" }));
  if (hit.upvotes !== null && hit.upvotes !== undefined) meta.append(el("span", { class: "up", text: `▲ ${hit.upvotes}` }));
  return meta;
}

function hitNode(hit) {
  const node = $("#hit-tpl").content.firstElementChild.cloneNode(true);
  node.dataset.id = hit.id;
  node.querySelector(".rank").textContent = `${hit.rank}.`;
  const title = node.querySelector(".title");
  title.textContent = hit.title;
  title.href = paperHref(hit.id);
  // The actions share the id/date line: one line less per result (density).
  const meta = metaNode(hit);
  meta.append(node.querySelector(".actions"));
  node.querySelector(".meta").replaceWith(meta);
  // The server HTML-escapes the snippet and adds only <mark> tags.
  node.querySelector(".snippet").innerHTML = hit.snippet ? hit.snippet.html : "";
  const source = node.querySelector(".source");
  const href = safeHref(hit.url);
  if (href) { source.href = href; source.textContent = sourceLabel(href); } else source.remove();
  node.querySelector(".detail").href = `/api/papers/${encodeURIComponent(hit.id)}`;
  const pick = node.querySelector(".pick");
  pick.checked = state.selected.has(hit.id);
  pick.addEventListener("change", () => togglePick(hit, pick.checked));
  const scoreBtn = node.querySelector(".score-btn");
  scoreBtn.addEventListener("click", () => toggleScores(node, hit, scoreBtn));
  node.querySelector(".similar-btn").addEventListener("click", () => toggleSimilar(node, hit));
  return node;
}

// Each leg's rank and score: from hit.legs when the API sends it (one entry per retriever),
// else from the older bm25/dense pair.
function legRows(hit) {
  if (hit.legs && typeof hit.legs === "object") {
    return Object.entries(hit.legs).map(([name, leg]) => [name === "bm25" ? "BM25" : modeLabel(name === "dense" ? "dense" : name), leg]);
  }
  return [["BM25", hit.bm25], ["임베딩", hit.dense]];
}

function toggleScores(node, hit, btn) {
  const box = node.querySelector(".scores");
  if (!box.hidden) { show(box, false); btn.setAttribute("aria-expanded", "false"); btn.textContent = "점수 보기"; return; }
  const table = el("table");
  const row = (label, cell) => {
    const tr = table.insertRow();
    tr.append(el("th", { text: label }));
    const td = tr.insertCell();
    td.append(cell);
  };
  const leg = (l) => (l ? `#${l.rank} · 점수 ${Number(l.score).toFixed(3)}` : "— (이 방식의 후보에 없음)");
  row("종합 점수", Number(hit.score).toFixed(4));
  for (const [label, l] of legRows(hit)) {
    row(label, leg(l));
    if (label === "BM25" && hit.bm25 && hit.bm25.matched && hit.bm25.matched.length) {
      const terms = el("span");
      for (const t of hit.bm25.matched) terms.append(el("span", { class: "term", text: t }));
      row("일치 형태소", terms);
    }
  }
  box.replaceChildren(table);
  show(box, true);
  btn.setAttribute("aria-expanded", "true");
  btn.textContent = "점수 숨기기";
}

function paperList(results, withDate = true) {
  const ol = el("ol");
  for (const s of results) {
    const li = el("li", {}, el("a", { href: paperHref(s.id), text: s.title }));
    if (withDate) li.append(el("span", { class: "sdate", text: s.date || "" }));
    ol.append(li);
  }
  return ol;
}

async function toggleSimilar(node, hit) {
  const box = node.querySelector(".similar");
  if (!box.hidden) { show(box, false); return; }
  box.textContent = "비슷한 논문을 찾는 중…";
  show(box, true);
  try {
    const data = await api(`/api/papers/${encodeURIComponent(hit.id)}/similar?k=5`);
    const head = el("div", { class: "muted", text: data.notice ? "비슷한 논문 (BM25 기준)" : "비슷한 논문" });
    const ol = data.results.length ? paperList(data.results) : el("p", { text: "비슷한 논문이 없습니다." });
    box.replaceChildren(head, ol);
  } catch (e) {
    box.replaceChildren(errorLine(e));
  }
}

// ---- papers like these -----------------------------------------------------------------

function togglePick(hit, on) {
  if (on) state.selected.set(hit.id, hit.title); else state.selected.delete(hit.id);
  const n = state.selected.size;
  $("#selection-count").textContent = `${n}편 선택됨`;
  show($("#selection"), n > 0);
}

function clearSelection() {
  state.selected.clear();
  for (const box of document.querySelectorAll(".pick")) box.checked = false;
  show($("#selection"), false);
}

async function likeThese(ids) {
  state.fromURL = false;
  if (!ids.length) return;
  const url = `/?${new URLSearchParams({ like: ids.join(",") })}`;
  if (location.pathname + location.search !== url) history.pushState(null, "", url);
  show($("#intro"), false);
  setError("");
  // The list replaces the search results; the back button returns to them.
  state.seq++;
  $("#results").replaceChildren();
  $("#stats").textContent = "";
  show($("#empty"), false);
  show($("#more"), false);
  $("#like-title").textContent = `선택한 ${ids.length}편 모두와 비슷한 논문`;
  showChosen(ids);
  $("#like-results").replaceChildren();
  show($("#like-view"), true);
  try {
    const data = await api("/api/similar", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ids, k: PAGE }),  // the server's default for similar papers
    });
    setNotice(data);
    for (const hit of data.results) $("#like-results").append(hitNode(hit));
    if (!data.results.length) $("#like-results").append(el("li", { class: "empty", text: "비슷한 논문이 없습니다." }));
  } catch (e) {
    setError(e);
  }
}

// The papers chosen, by title (from the results they were ticked in, else asked of the API:
// a shared /?like= URL), each a link to its paper view.
async function showChosen(ids) {
  const ol = $("#like-chosen");
  const seq = state.seq;
  const titles = await Promise.all(ids.map(async (id) => {
    if (state.selected.has(id)) return state.selected.get(id);
    try { return (await api(`/api/papers/${encodeURIComponent(id)}`)).title; } catch (_) { return id; }
  }));
  if (seq !== state.seq) return;
  ol.replaceChildren(...ids.map((id, i) => el("li", {}, el("a", { href: paperHref(id), text: titles[i] }))));
}

// ---- start page ----------------------------------------------------------------------

async function startPage() {
  try {
    const data = await api("/api/start");
    const langs = { ko: "한국어", en: "영어", mixed: "혼용" };
    const ul = $("#examples");
    ul.replaceChildren();
    for (const ex of data.examples) {
      const btn = el("button", { type: "button", class: "example", text: ex.query });
      btn.addEventListener("click", () => { $("#q").value = ex.query; search(); });
      ul.append(el("li", {}, btn, el("span", { class: "lang", text: langs[ex.lang] || ex.lang })));
    }
    $("#newest").replaceChildren(...paperList(data.newest).children);
  } catch (_) { /* no index yet: the footer says why */ }
}

// ---- paper view ----------------------------------------------------------------------

function section(title, ...content) {
  return el("section", { class: "pv-section" }, el("h2", { text: title }), ...content);
}

// Digest text: paragraphs, and "- " bullet lines (the post format's Goal / Motivation / ...).
function paragraphs(text) {
  const box = el("div", { class: "pv-text" });
  let list = null;
  for (const raw of String(text).split(/\n/)) {
    const line = raw.trim();
    if (!line) { list = null; continue; }
    const bullet = line.match(/^[-*•]\s+(.*)$/);
    if (bullet) {
      if (!list) { list = el("ul"); box.append(list); }
      list.append(el("li", { text: bullet[1] }));
    } else {
      list = null;
      box.append(el("p", { text: line }));
    }
  }
  return box;
}

async function paperView(id) {
  show($("#search-view"), false);
  const view = $("#paper-view");
  show(view, true);
  view.replaceChildren(el("p", { class: "muted", text: "논문을 불러오는 중…" }));
  let p;
  try {
    p = await api(`/api/papers/${encodeURIComponent(id)}`);
  } catch (e) {
    view.replaceChildren(el("p", { class: "banner error", title: e.message }, errorLine(e)), backLink());
    return;
  }
  document.title = `${p.title} · papersearch`;
  const links = el("div", { class: "pv-links" });
  const href = safeHref(p.url);
  if (href) links.append(el("a", { href, target: "_blank", rel: "noopener", text: sourceLabel(href) }));
  const arxiv = `https://arxiv.org/abs/${encodeURIComponent(p.id)}`;
  const hf = `https://huggingface.co/papers/${encodeURIComponent(p.id)}`;
  for (const [u, label] of [[arxiv, "arXiv"], [hf, "Hugging Face"]]) {
    if (!href || !href.startsWith(u)) links.append(el("a", { href: u, target: "_blank", rel: "noopener", text: label }));
  }
  if (ARXIV_ID.test(p.id)) links.append(el("a", { href: `https://arxiv.org/pdf/${encodeURIComponent(p.id)}`, target: "_blank", rel: "noopener", text: "PDF" }));
  const bib = el("pre", { class: "pv-bibtex", hidden: "" });
  const bibBtn = el("button", { type: "button", class: "link", "aria-expanded": "false", text: "BibTeX" });
  bibBtn.addEventListener("click", () => {
    bib.textContent = bibtex(p);
    const open = bib.hidden;
    show(bib, open);
    bibBtn.setAttribute("aria-expanded", String(open));
    if (open && navigator.clipboard) navigator.clipboard.writeText(bib.textContent).then(() => { bibBtn.textContent = "BibTeX (복사됨)"; }, () => {});
  });
  links.append(bibBtn);
  const meta = el("div", { class: "meta pv-meta" }, el("span", { class: "id", text: p.id }), el("span", { class: "date", text: p.date || "날짜 없음" }));
  if (p.upvotes !== null && p.upvotes !== undefined) meta.append(el("span", { class: "up", text: `▲ ${p.upvotes}` }));
  const parts = [backLink(), el("h1", { class: "pv-title", text: p.title }), meta, links, bib];
  if (p.summary) parts.push(section("요약", paragraphs(p.summary)));
  if (p.abstract) parts.push(section("초록 (번역)", paragraphs(p.abstract)));
  if (p.key_points && p.key_points.length) {
    const ul = el("ul");
    for (const k of p.key_points) ul.append(el("li", { text: k }));
    parts.push(section("핵심 포인트", ul));
  }
  for (const [name, text] of Object.entries(p.sections || {})) parts.push(section(name, paragraphs(text)));
  if (p.sources && p.sources.length) {
    const ul = el("ul", { class: "pv-sources" });
    for (const s of p.sources) ul.append(el("li", {}, el("code", { text: s })));
    parts.push(section(`수록된 다이제스트 (${p.sources.length})`, ul));
  }
  const similar = section("비슷한 논문", el("p", { class: "muted", text: "찾는 중…" }));
  similar.id = "pv-similar";
  parts.push(similar);
  view.replaceChildren(...parts);
  view.querySelector(".pv-title").setAttribute("tabindex", "-1");
  view.querySelector(".pv-title").focus();
  try {
    const data = await api(`/api/papers/${encodeURIComponent(p.id)}/similar?k=8`);
    similar.lastChild.replaceWith(data.results.length ? paperList(data.results) : el("p", { text: "비슷한 논문이 없습니다." }));
  } catch (e) {
    similar.lastChild.replaceWith(el("p", {}, errorLine(e)));
  }
}

const ARXIV_ID = /^\d{4}\.\d{4,5}$/;

// A BibTeX entry for a paper, as arXiv's own export writes one (@misc with eprint). Braces
// and backslashes in a digest's title could end the field early: they are dropped.
function bibtex(p) {
  const clean = (s) => String(s || "").replace(/[{}\\]/g, "").replace(/\s+/g, " ").trim();
  const arxiv = ARXIV_ID.test(p.id);
  const year = (p.date || "").slice(0, 4) || (arxiv ? `20${p.id.slice(0, 2)}` : "");
  const fields = [["title", clean(p.title)]];
  if (year) fields.push(["year", year]);
  if (arxiv) fields.push(["eprint", p.id], ["archivePrefix", "arXiv"]);
  const url = safeHref(p.url);
  if (url) fields.push(["url", clean(url)]);
  const key = arxiv ? `arxiv${p.id}` : clean(p.id).replace(/[^A-Za-z0-9._-]/g, "") || "paper";
  return `@misc{${key},\n${fields.map(([k, v]) => `  ${k} = {${v}}`).join(",\n")}\n}`;
}

function backLink() {
  const a = el("a", { href: "/", class: "back", text: "← 검색으로" });
  a.addEventListener("click", (e) => {
    if (history.length > 1 && document.referrer.startsWith(location.origin)) { e.preventDefault(); history.back(); }
  });
  return a;
}

// ---- modes from /api/health ------------------------------------------------------------

let servedBuild = null;

async function health() {
  try {
    const h = await api("/api/health");
    const dense = denseLine(h);
    const line = `${h.papers}편 · 빌드 ${h.build_id} · `;
    const emb = h.embedding;
    if (emb && emb.state === "embedding") {
      // A progressive build: BM25 answers now; the hybrid build swaps in when the legs are embedded.
      const part = emb.to_embed ? ` ${emb.leg} ${emb.embedded}/${emb.to_embed}편` : "";
      const eta = emb.eta_s != null ? `, 약 ${Math.max(1, Math.round(emb.eta_s))}초 남음` : "";
      const later = emb.legs_after && emb.legs_after.length ? ` (다음: ${emb.legs_after.join(", ")})` : "";
      $("#health").textContent = `${line}BM25로 검색 중 · 임베딩 만드는 중:${part}${eta}${later}`;
      setTimeout(health, 3000);
    } else {
      $("#health").textContent = line + dense;
    }
    if (servedBuild !== null && servedBuild !== h.build_id && $("#q").value.trim()) search();  // a new build: ask again
    servedBuild = h.build_id;
    setModes(h);
  } catch (e) {
    $("#health").textContent = `인덱스 없음: ${errorText(e)}`;
    $("#health").title = e.message;
  }
}

// Which embedding legs answer and which cannot (a leg whose model failed to load is not "on").
function denseLine(h) {
  const legs = Array.isArray(h.legs) ? h.legs.filter((l) => l.kind === "dense") : null;
  if (!legs) return h.dense ? `임베딩 켜짐 (${h.model})` : "BM25 전용 (임베딩 모델 없음)";
  const on = legs.filter((l) => l.ready).map((l) => l.name);
  const off = legs.filter((l) => !l.ready).map((l) => l.name);
  if (!on.length) return legs.length ? `BM25 전용 (임베딩 ${off.join(", ")} 쓸 수 없음)` : "BM25 전용 (임베딩 모델 없음)";
  return `임베딩 켜짐 (${on.join(", ")})${off.length ? ` · ${off.join(", ")} 쓸 수 없음` : ""}`;
}

// The toggle offers what the loaded index can answer: health's "modes" when the server
// lists them (one per dense leg too), else hybrid/dense only when dense is on.
function setModes(h) {
  const available = Array.isArray(h.modes) ? h.modes : (h.dense ? ["hybrid", "bm25", "dense"] : ["bm25"]);
  const wanted = new URLSearchParams(location.search).get("mode") || mode();
  // The three modes always show (greyed out when the index cannot answer them); one
  // per dense leg only when there are several legs to choose between.
  const base = ["hybrid", "bm25", "dense"];
  const legs = Array.isArray(h.modes) ? h.modes.filter((m) => !base.includes(m)) : [];
  const names = legs.length > 1 ? base.concat(legs) : base;
  const box = $("#modes");
  box.replaceChildren();
  for (const m of names) {
    const input = el("input", { type: "radio", name: "mode", value: m });
    const on = available.includes(m);
    input.disabled = !on;
    const label = el("label", { title: on ? "" : "이 인덱스에는 임베딩 벡터나 모델이 없어 쓸 수 없습니다" }, input, el("span", { text: modeLabel(m) }));
    input.addEventListener("change", () => { if ($("#q").value.trim()) search(); });
    box.append(label);
  }
  const pick = available.includes(wanted) ? wanted : available.includes("hybrid") ? "hybrid" : available[0];
  const r = box.querySelector(`input[value="${CSS.escape(pick || "bm25")}"]`);
  if (r) r.checked = true;
}

// ---- keyboard ------------------------------------------------------------------------

function onKeydown(event) {
  // Korean IMEs compose a syllable across keystrokes; the Enter that commits it arrives
  // with isComposing (or keyCode 229 in some browsers) and must not search.
  if (event.key === "ArrowDown" && !event.isComposing) { focusResult(0); event.preventDefault(); return; }
  if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) return;
  event.preventDefault();
  search();
}

function resultLinks() { return [...document.querySelectorAll("#search-view .result:not([hidden]) a.title")].filter((a) => a.offsetParent !== null); }

function focusResult(i) {
  const links = resultLinks();
  if (links.length) links[Math.max(0, Math.min(i, links.length - 1))].focus();
}

function onGlobalKeydown(event) {
  const t = event.target;
  const typing = t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
    if ($("#search-view").hidden) return;
    event.preventDefault();
    $("#q").focus();
    $("#q").select();
    return;
  }
  if ((event.key === "ArrowDown" || event.key === "ArrowUp") && t instanceof HTMLAnchorElement && t.classList.contains("title")) {
    const links = resultLinks();
    const i = links.indexOf(t);
    if (i < 0) return;
    event.preventDefault();
    if (event.key === "ArrowUp" && i === 0) $("#q").focus(); else focusResult(i + (event.key === "ArrowDown" ? 1 : -1));
  }
}

// ---- routing -------------------------------------------------------------------------

// A shared or hand-edited URL can carry values the page cannot take (an <input
// type=date> silently drops 2025-02-30); the page says which it left out instead.
const URL_FIELDS = { from: ["#date-from", "시작 날짜"], to: ["#date-to", "끝 날짜"], up: ["#min-upvotes", "최소 추천 수"] };

function urlProblems(params) {
  const bad = [];
  for (const [key, [sel, label]] of Object.entries(URL_FIELDS)) {
    const raw = params.get(key);
    if (raw && $(sel).value !== raw) bad.push(`${label} ‘${raw}’`);
  }
  const sort = params.get("sort");
  if (sort && !SORTS.includes(sort)) bad.push(`정렬 ‘${sort}’`);
  const md = params.get("mode");
  const r = md ? document.querySelector(`input[name="mode"][value="${CSS.escape(md)}"]`) : null;
  if (md && !r) bad.push(`검색 방식 ‘${md}’`);
  else if (md && r.disabled) bad.push(`검색 방식 ‘${modeLabel(md)}’ (이 인덱스에서는 쓸 수 없음)`);
  return bad;
}

function showURLProblems(bad) {
  const box = $("#url-problems");
  box.textContent = bad.length ? `주소의 일부 값을 쓸 수 없어 빼고 검색했습니다: ${bad.join(", ")}` : "";
  show(box, bad.length > 0);
}

function applyURL() {
  const m = location.pathname.match(/^\/paper\/(.+)$/);
  if (m) { paperView(decodeURIComponent(m[1])); return; }
  show($("#paper-view"), false);
  show($("#search-view"), true);
  document.title = "papersearch · AI 논문 다이제스트 검색";
  const params = new URLSearchParams(location.search);
  const md = params.get("mode");
  if (md) { const r = document.querySelector(`input[name="mode"][value="${CSS.escape(md)}"]`); if (r && !r.disabled) r.checked = true; }
  $("#date-from").value = params.get("from") || "";
  $("#date-to").value = params.get("to") || "";
  $("#min-upvotes").value = params.get("up") || "";
  const sort = params.get("sort");
  $("#sort").value = SORTS.includes(sort) ? sort : "relevance";
  syncFilterBox();
  showURLProblems(urlProblems(params));
  $("#q").value = params.get("q") || "";
  state.fromURL = true;
  if (params.get("like")) likeThese(params.get("like").split(",").filter(Boolean));
  else if (params.get("q")) search();
  else resetToStart();
}

document.addEventListener("DOMContentLoaded", () => {
  $("#q").addEventListener("keydown", onKeydown);
  document.addEventListener("keydown", onGlobalKeydown);
  $("#go").addEventListener("click", () => search());
  $("#more").addEventListener("click", () => search(true));
  for (const id of ["#date-from", "#date-to", "#min-upvotes", "#sort"]) {
    $(id).addEventListener("change", () => { if ($("#q").value.trim()) search(); else syncFilterBox(); });
  }
  $("#clear-filters").addEventListener("click", () => {
    $("#date-from").value = ""; $("#date-to").value = ""; $("#min-upvotes").value = ""; $("#sort").value = "relevance";
    search();
  });
  $("#like-these").addEventListener("click", () => likeThese([...state.selected.keys()]));
  $("#clear-selection").addEventListener("click", clearSelection);
  for (const r of document.querySelectorAll('input[name="mode"]')) {
    r.addEventListener("change", () => { if ($("#q").value.trim()) search(); });
  }
  window.addEventListener("popstate", applyURL);
  health().then(applyURL);
  startPage();
});
