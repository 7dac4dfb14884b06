// papersearch page: plain JS over the JSON API, no build step.
"use strict";

const PAGE = 10;
const $ = (sel) => document.querySelector(sel);
const state = { q: "", mode: "hybrid", shown: 0, total: 0, seq: 0 };

function mode() {
  return document.querySelector('input[name="mode"]:checked').value;
}

async function api(path, options) {
  const res = await fetch(path, options);
  let body = null;
  try { body = await res.json(); } catch (_) { /* not JSON: fall through to the status */ }
  if (!res.ok) {
    const detail = body && body.detail ? body.detail : `${res.status} ${res.statusText}`;
    throw new Error(detail);
  }
  return body;
}

function show(el, on) { el.hidden = !on; }

function setError(msg) {
  $("#error").textContent = msg ? `오류: ${msg}` : "";
  show($("#error"), Boolean(msg));
}

function setNotice(msg) {
  $("#notice").textContent = msg ? `알림: ${msg}` : "";
  show($("#notice"), Boolean(msg));
}

async function search(append = false) {
  const q = $("#q").value.trim();
  if (!q) { setError("검색어를 입력하세요."); return; }
  const seq = ++state.seq; // a newer search makes older answers stale
  if (!append) { state.q = q; state.mode = mode(); state.shown = 0; }
  const params = new URLSearchParams({ q: state.q, mode: state.mode, k: PAGE, offset: state.shown });
  history.replaceState(null, "", `/?${new URLSearchParams({ q: state.q, mode: state.mode })}`);
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
    setError(e.message);
  } finally {
    if (seq === state.seq) $("#results").classList.remove("loading");
  }
}

function render(data, append) {
  show($("#intro"), false);
  setNotice(data.notice);
  const list = $("#results");
  if (!append) list.replaceChildren();
  for (const hit of data.results) list.append(hitNode(hit));
  state.shown = data.offset + data.results.length;
  state.total = data.total;
  const empty = state.shown === 0;
  $("#empty").textContent = empty ? `‘${data.query}’에 대한 결과가 없습니다. 다른 표현이나 영어 용어로 검색해 보세요.` : "";
  show($("#empty"), empty);
  $("#stats").textContent = empty ? "" : `${data.total}건 중 ${state.shown}건 · ${modeLabel(data.mode)}`;
  show($("#more"), state.shown < state.total);
}

function modeLabel(m) {
  return { hybrid: "하이브리드", bm25: "BM25", dense: "임베딩" }[m] || m;
}

function metaNode(hit) {
  const meta = document.createElement("div");
  meta.className = "meta";
  const parts = [["id", hit.id], ["date", hit.date || "날짜 없음"]];
  if (hit.upvotes !== null && hit.upvotes !== undefined) parts.push(["up", `▲ ${hit.upvotes}`]);
  for (const [cls, text] of parts) {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    meta.append(s);
  }
  return meta;
}

// Defence in depth: the index stores only http(s) paper links, but a link the page did
// not check could run script (javascript:, data:), so anything else becomes inert.
function safeHref(url) {
  return /^https?:\/\//i.test(url || "") ? url : "#";
}

function hitNode(hit) {
  const node = $("#hit-tpl").content.firstElementChild.cloneNode(true);
  node.dataset.id = hit.id;
  node.querySelector(".rank").textContent = `${hit.rank}.`;
  const title = node.querySelector(".title");
  title.textContent = hit.title;
  title.href = safeHref(hit.url);
  node.querySelector(".meta").replaceWith(metaNode(hit));
  // The server HTML-escapes the snippet and adds only <mark> tags.
  node.querySelector(".snippet").innerHTML = hit.snippet.html;
  node.querySelector(".detail").href = `/api/papers/${encodeURIComponent(hit.id)}`;
  const scoreBtn = node.querySelector(".score-btn");
  scoreBtn.addEventListener("click", () => toggleScores(node, hit, scoreBtn));
  node.querySelector(".similar-btn").addEventListener("click", () => toggleSimilar(node, hit));
  return node;
}

function toggleScores(node, hit, btn) {
  const box = node.querySelector(".scores");
  if (!box.hidden) { show(box, false); btn.setAttribute("aria-expanded", "false"); btn.textContent = "점수 보기"; return; }
  const table = document.createElement("table");
  const row = (label, ...cells) => {
    const tr = table.insertRow();
    const th = document.createElement("th");
    th.textContent = label;
    tr.append(th);
    for (const c of cells) { const td = tr.insertCell(); if (c instanceof Node) td.append(c); else td.textContent = c; }
  };
  const leg = (l, digits) => (l ? `#${l.rank} · 점수 ${l.score.toFixed(digits)}` : "— (이 방식의 후보에 없음)");
  row("종합 점수", hit.score.toFixed(4));
  row("BM25", leg(hit.bm25, 3));
  if (hit.bm25 && hit.bm25.matched.length) {
    const terms = document.createElement("span");
    for (const t of hit.bm25.matched) {
      const s = document.createElement("span");
      s.className = "term";
      s.textContent = t;
      terms.append(s);
    }
    row("일치 형태소", terms);
  }
  row("임베딩", leg(hit.dense, 3));
  box.replaceChildren(table);
  show(box, true);
  btn.setAttribute("aria-expanded", "true");
  btn.textContent = "점수 숨기기";
}

async function toggleSimilar(node, hit) {
  const box = node.querySelector(".similar");
  if (!box.hidden) { show(box, false); return; }
  box.textContent = "비슷한 논문을 찾는 중…";
  show(box, true);
  try {
    const data = await api(`/api/papers/${encodeURIComponent(hit.id)}/similar?k=5`);
    const head = document.createElement("div");
    head.className = "muted";
    head.textContent = data.notice ? `비슷한 논문 (${data.notice})` : "비슷한 논문";
    const ol = document.createElement("ol");
    for (const s of data.results) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = safeHref(s.url);
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = s.title;
      const d = document.createElement("span");
      d.className = "sdate";
      d.textContent = s.date || "";
      li.append(a, d);
      ol.append(li);
    }
    if (!data.results.length) ol.textContent = "비슷한 논문이 없습니다.";
    box.replaceChildren(head, ol);
  } catch (e) {
    box.textContent = `오류: ${e.message}`;
  }
}

async function health() {
  try {
    const h = await api("/api/health");
    const dense = h.dense ? `임베딩 켜짐 (${h.model})` : "BM25 전용 (임베딩 모델 없음)";
    $("#health").textContent = `${h.papers}편 · 빌드 ${h.build_id} · ${dense}`;
  } catch (e) {
    $("#health").textContent = `인덱스 없음: ${e.message}`;
  }
}

function onKeydown(event) {
  // Korean IMEs compose a syllable across keystrokes; the Enter that commits it arrives
  // with isComposing (or keyCode 229 in some browsers) and must not search.
  if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) return;
  event.preventDefault();
  search();
}

document.addEventListener("DOMContentLoaded", () => {
  $("#q").addEventListener("keydown", onKeydown);
  $("#go").addEventListener("click", () => search());
  $("#more").addEventListener("click", () => search(true));
  for (const r of document.querySelectorAll('input[name="mode"]')) {
    r.addEventListener("change", () => { if ($("#q").value.trim()) search(); });
  }
  const params = new URLSearchParams(location.search);
  const m = params.get("mode");
  if (m) { const r = document.querySelector(`input[name="mode"][value="${CSS.escape(m)}"]`); if (r) r.checked = true; }
  if (params.get("q")) { $("#q").value = params.get("q"); search(); }
  health();
});
