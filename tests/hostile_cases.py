"""The hostile digests of ``test_hostile_digests.py``: each case a file written beside the
sample corpus, with the check its papers, problems and API answers must pass."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from index.build import BuildReport
from index.parse.digest_values import (
    MAX_FIELD_CHARS,
    MAX_FILE_BYTES,
    MAX_ISSUES_PER_FILE,
    MAX_PAPER_CHARS,
)

UI_TARS = "2509.02544"
UI_TARS_TITLE = "UI-TARS-2 Technical Report: Advancing GUI Agent with Multi-Turn Reinforcement Learning"
SUMMARY = "### 📌 요약\n해로운 다이제스트의 요약입니다.\n"


def daily(*blocks: str, date: str = "2026-02-01") -> str:
    return f"# {date} Daily Papers (Top 5)\n\n" + "\n".join(blocks)


def block(title: str, url: str, body: str = SUMMARY, n: int = 1) -> str:
    return f"## {n}. [{title}]({url})\n**Upvotes**: 3\n\n{body}\n"


def hf(pid: str) -> str:
    return f"https://huggingface.co/papers/{pid}"


@dataclass
class Case:
    name: str  # the file name written under hostile/
    content: str | bytes | None  # None: the case makes its own entry (FIFO, loop, ...)
    check: Callable[["Built"], bool]


@dataclass
class Built:
    root: Path
    src: Path
    report: BuildReport
    client: TestClient

    def problems(self, name: str) -> list[str]:
        path = str(self.src / "hostile" / name)
        return [e.reason for e in self.report.errors if e.file == path]

    def paper(self, pid: str) -> dict | None:
        r = self.client.get(f"/api/papers/{pid}")
        return r.json() if r.status_code == 200 else None

    def search_ids(self, q: str) -> list[str]:
        return [h["id"] for h in self._search(q)]

    def search_titles(self, q: str) -> list[str]:
        return [h["title"] for h in self._search(q)]

    def _search(self, q: str) -> list[dict]:
        r = self.client.get("/api/search", params={"q": q, "k": 100, "mode": "bm25"})
        assert r.status_code == 200
        return r.json()["results"]


def has(problems: list[str], pattern: str) -> bool:
    return any(re.search(pattern, p) for p in problems)


HUGE_LINE = "긴 문장입니다. " * (300_000 // 9)  # ~300k characters on one line
CASES: list[Case] = [
    # 1. script links: only http(s) arxiv.org / huggingface.co paper pages give an id
    Case("js-link.md", daily(block("T", "javascript:alert%28document.domain%29//arxiv.org/abs/2511.00032")),
         lambda b: b.paper("2511.00032") is None and has(b.problems("js-link.md"), "no arXiv id")),
    Case("js-newline.md", daily(block("T", "javascript://arxiv.org/abs/2511.00033%0Aalert%281%29")),
         lambda b: b.paper("2511.00033") is None and has(b.problems("js-newline.md"), "no arXiv id")),
    Case("data-url.md", daily(block("T", "data:text/html;base64,PHNjcmlwdD4=#arxiv.org/abs/2511.00034")),
         lambda b: b.paper("2511.00034") is None and has(b.problems("data-url.md"), "no arXiv id")),
    Case("ftp.md", daily(block("T", "ftp://arxiv.org/abs/2511.00035")),
         lambda b: b.paper("2511.00035") is None and has(b.problems("ftp.md"), "no arXiv id")),
    Case("schemeless.md", daily(block("T", "arxiv.org/abs/2511.00036")),
         lambda b: b.paper("2511.00036") is None and has(b.problems("schemeless.md"), "no arXiv id")),
    Case("lookalike-host.md", daily(block("T", "https://arxiv.org.evil.example/abs/2511.00037")),
         lambda b: b.paper("2511.00037") is None and has(b.problems("lookalike-host.md"), "no arXiv id")),
    Case("userinfo.md", daily(block("T", "https://arxiv.org@evil.example/abs/2511.00038")),
         lambda b: b.paper("2511.00038") is None and has(b.problems("userinfo.md"), "no arXiv id")),
    # a good link is stored normalised: https, canonical host, no query or fragment
    Case("normalised.md", daily(block("Normalised Link Paper", "http://www.arxiv.org/abs/2511.00039v2?utm=x#top")),
         lambda b: (b.paper("2511.00039") or {}).get("url") == "https://arxiv.org/abs/2511.00039v2"),
    # 2. paper takeover
    Case("hijack-host.md", f"# 1. [HIJACKED TITLE](https://evil.example/arxiv.org/abs/{UI_TARS})\n\n## Method\n\n탈취.\n",
         lambda b: b.paper(UI_TARS)["title"] == UI_TARS_TITLE and has(b.problems("hijack-host.md"), "no arXiv id")),
    Case("extra-digit.md", daily(block("HIJACKED 01055", "https://arxiv.org/abs/2509.010559")),
         lambda b: "HIJACKED" not in b.paper("2509.01055")["title"] and has(b.problems("extra-digit.md"), "no arXiv id")),
    # same id, valid link, another title, dated after the real digest: reported, real one kept
    Case("2026-02-02-conflict.md", daily(block("HIJACKED SAME ID", f"https://arxiv.org/abs/{UI_TARS}"), date="2026-02-02"),
         lambda b: b.paper(UI_TARS)["title"] == UI_TARS_TITLE
         and has(b.problems("2026-02-02-conflict.md"), rf"paper {UI_TARS} has another title at .*2025-09-03.md:\d+: "
                 rf"kept 'UI-TARS-2.*dropped 'HIJACKED SAME ID'")),
    Case("twice-in-one-file.md", daily(block("First Title", hf("2511.00040")), block("Second Title", hf("2511.00040"), n=2)),
         lambda b: b.paper("2511.00040")["title"] == "First Title"
         and has(b.problems("twice-in-one-file.md"), r"another title at .*twice-in-one-file.md:3: kept 'First Title'.*'Second Title'")),
    # 4. bounded work per paper: one ~300k-character line, cut at a space and reported
    Case("huge-line.md", daily(block("Huge Line Paper", hf("2511.00041"), "### 📌 요약\n" + HUGE_LINE)),
         lambda b: len(b.paper("2511.00041")["summary"]) <= MAX_FIELD_CHARS
         and b.paper("2511.00041")["summary"].endswith("입니다.…")
         and has(b.problems("huge-line.md"), "truncated")),
    Case("100k-lines.md", daily(block("Many Lines Paper", hf("2511.00042"), "### Method\n" + "줄 하나.\n" * 100_000)),
         lambda b: len(b.paper("2511.00042")["sections"]["Method"]) <= MAX_FIELD_CHARS
         and has(b.problems("100k-lines.md"), "truncated")),
    Case("many-fields.md", daily(block("Many Fields Paper", hf("2511.00043"),
                                       "".join(f"### Part {i}\n{'가나다 ' * 4000}\n" for i in range(20)))),
         lambda b: sum(len(v) for v in b.paper("2511.00043")["sections"].values()) <= MAX_PAPER_CHARS
         and has(b.problems("many-fields.md"), f"paper text over {MAX_PAPER_CHARS}")),
    Case("long-heading.md", daily(block("T" * 6000, hf("2511.00044"))),
         lambda b: b.paper("2511.00044") is None and has(b.problems("long-heading.md"), "heading longer")),
    Case("long-title.md", daily(block("Word " * 200, hf("2511.00045"))),
         lambda b: len(b.paper("2511.00045")["title"]) <= 500 and has(b.problems("long-title.md"), "title longer")),
    # 5. only \n and \r\n end lines
    Case("u2028.md", daily(block("Separator Paper", hf("2511.00046"),
                                 "### 📌 요약\n요약\u2028## 9. [INJECTED VIA U+2028](https://arxiv.org/abs/2511.00047)\n")),
         lambda b: b.paper("2511.00047") is None and "INJECTED" in b.paper("2511.00046")["summary"]
         and has(b.problems("u2028.md"), "line-separator")),
    Case("u2029-nel.md", daily(block("Para\u2029Sep\x85Paper", hf("2511.00048"))),
         lambda b: b.paper("2511.00048")["title"] == "Para Sep Paper"),
    Case("vt-ff-title.md", daily(block("Vertical\x0bTab\x0cFeed", hf("2511.00049"))),
         lambda b: b.paper("2511.00049")["title"] == "Vertical Tab Feed" and has(b.problems("vt-ff-title.md"), "control")),
    Case("crlf.md", daily(block("CRLF Paper", hf("2511.00050"))).replace("\n", "\r\n"),
         lambda b: b.paper("2511.00050")["summary"] == "해로운 다이제스트의 요약입니다." and b.problems("crlf.md") == []),
    Case("lone-cr.md", daily(block("Lone CR Paper", hf("2511.00051"), "### 📌 요약\n하나\r## 2. [CR INJECTED](https://arxiv.org/abs/2511.00052)\n")),
         lambda b: b.paper("2511.00052") is None and b.paper("2511.00051") is not None),
    # 6. values checked
    Case("2026-02-03-bad-date.md", "---\ndate: 2025-13-45\n---\n\n" + block("Bad Date Paper", hf("2511.00053")).replace("## 1.", "# 1."),
         lambda b: b.paper("2511.00053")["date"] == "2026-02-03" and has(b.problems("2026-02-03-bad-date.md"), "invalid date 2025-13-45")),
    Case("undated-bad.md", "# 2025-02-30 Daily Papers\n\n" + block("Feb 30 Paper", hf("2511.00054")),
         lambda b: b.paper("2511.00054")["date"] is None and has(b.problems("undated-bad.md"), "invalid date")),
    Case("big-upvotes.md", daily(block("Big Upvotes Paper", hf("2511.00055")).replace("**Upvotes**: 3", "**Upvotes**: " + "9" * 40)),
         lambda b: b.paper("2511.00055")["upvotes"] is None and has(b.problems("big-upvotes.md"), "upvotes .* out of range")),
    Case("esc-bel-title.md", daily(block("Bell\x07 and \x1b[31mEscape", hf("2511.00056"))),
         lambda b: b.paper("2511.00056")["title"] == "Bell and [31mEscape"),
    Case("bidi-title.md", daily(block("Good\u202eelif.exe", hf("2511.00057"))),
         lambda b: b.paper("2511.00057")["title"] == "Goodelif.exe"),
    Case("zero-id.md", daily(block("Zero Id", "https://arxiv.org/abs/0000.0000")),
         lambda b: b.paper("0000.0000") is None and has(b.problems("zero-id.md"), "no month 0000")),
    Case("month-13.md", daily(block("Month 13", "https://arxiv.org/abs/2513.00001")),
         lambda b: b.paper("2513.00001") is None and has(b.problems("month-13.md"), "no month 2513")),
    # 7. encodings and files
    Case("utf16le.md", b"\xff\xfe" + daily(block("UTF-16 LE Paper", hf("2511.00058"))).encode("utf-16-le"),
         lambda b: b.paper("2511.00058")["title"] == "UTF-16 LE Paper" and b.problems("utf16le.md") == []),
    Case("utf16be.md", b"\xfe\xff" + daily(block("UTF-16 BE Paper", hf("2511.00059"))).encode("utf-16-be"),
         lambda b: b.paper("2511.00059")["title"] == "UTF-16 BE Paper"),
    Case("utf32le.md", b"\xff\xfe\x00\x00" + daily(block("UTF-32 LE Paper", hf("2511.00060"))).encode("utf-32-le"),
         lambda b: b.paper("2511.00060")["title"] == "UTF-32 LE Paper"),
    Case("utf32be.md", b"\x00\x00\xfe\xff" + daily(block("UTF-32 BE Paper", hf("2511.00061"))).encode("utf-32-be"),
         lambda b: b.paper("2511.00061")["title"] == "UTF-32 BE Paper"),
    Case("utf8-bom.md", b"\xef\xbb\xbf" + daily(block("UTF-8 BOM Paper", hf("2511.00062"))).encode(),
         lambda b: b.paper("2511.00062")["title"] == "UTF-8 BOM Paper"),
    Case("bad-utf16.md", b"\xff\xfe" + b"\x00\xd8" * 3,
         lambda b: has(b.problems("bad-utf16.md"), "not valid UTF-16-LE")),
    Case("binary.md", bytes(range(256)) * 8, lambda b: has(b.problems("binary.md"), "binary")),
    Case("nul.md", daily(block("NUL\x00 Paper", hf("2511.00063"))),
         lambda b: b.paper("2511.00063") is None and has(b.problems("nul.md"), "binary")),
    Case("latin1.md", f"## 1. [Caf\xe9]({hf('2511.00064')})\n\n### Summary\ntext\n".encode("latin-1"),
         lambda b: b.paper("2511.00064") is None and has(b.problems("latin1.md"), "not UTF-8")),
    Case("empty.md", "", lambda b: b.problems("empty.md") == ["empty file"]),
    Case("fifo.md", None, lambda b: has(b.problems("fifo.md"), "a FIFO, not a regular file")),
    Case("loop.md", None, lambda b: has(b.problems("loop.md"), "symlink loop")),
    Case("dangling.md", None, lambda b: has(b.problems("dangling.md"), "broken symlink")),
    Case("too-big.md", None, lambda b: has(b.problems("too-big.md"), f"over the {MAX_FILE_BYTES}-byte limit")),
    Case("unreadable.md", None, lambda b: has(b.problems("unreadable.md"), "cannot read file: Permission denied")),
    Case("folder.md", None, lambda b: b.paper("2511.00065")["title"] == "Inside A Folder Named .md"),
    # repeated headings, injection, odd names, front matter
    Case("repeated-headings.md", daily(*(block(f"Empty {i}", hf(f"2511.{10000 + i}"), body="") for i in range(5000))),
         lambda b: len(b.problems("repeated-headings.md")) == MAX_ISSUES_PER_FILE + 1
         and has(b.problems("repeated-headings.md"), "4900 more problems")),
    Case("repeated-sections.md", daily(block("Many Sections Paper", hf("2511.00066"),
                                             "".join(f"### Section {i}\n내용 {i}\n" for i in range(500)))),
         lambda b: len(b.paper("2511.00066")["sections"]) == 50 and has(b.problems("repeated-sections.md"), "more than 50 sections")),
    Case("html-title.md", daily(block("<img src=x onerror=alert(1)> Injected", hf("2511.00067"),
                                      "### 📌 요약\n<script>alert(1)</script> 주입 시도 문장\n")),
         lambda b: b.paper("2511.00067")["title"] == "<img src=x onerror=alert(1)> Injected"
         and "<script>" not in str(b.client.get("/api/search", params={"q": "주입 시도", "mode": "bm25"}).json()["results"][0]["snippet"]["html"])),
    Case("md-link-in-title.md", daily(block("[nested](javascript:alert(1))", hf("2511.00068"))),
         lambda b: b.paper("2511.00068") is None or b.paper("2511.00068")["url"] == hf("2511.00068")),
    Case("odd name\twith tab & 한글 'quotes'.md", daily(block("Odd Name Paper", hf("2511.00069"))),
         lambda b: b.paper("2511.00069")["sources"][0].endswith("odd name\twith tab & 한글 'quotes'.md")),
    Case("-rf --no-dense.md", daily(block("Dash Name Paper", hf("2511.00070"))),
         lambda b: b.paper("2511.00070") is not None),
    Case("UPPER.MD", daily(block("Upper Suffix Paper", hf("2511.00071"))), lambda b: b.paper("2511.00071") is not None),
    Case("not-a-digest.txt", daily(block("Txt Paper", hf("2511.00072"))), lambda b: b.paper("2511.00072") is None),
    Case("unclosed-front-matter.md", "---\ntitle: x\n\n" + block("Unclosed FM Paper", hf("2511.00073")),
         lambda b: b.paper("2511.00073") is not None),
    Case("yaml-bomb-front-matter.md", "---\na: &a [1,1]\nb: &b [*a,*a]\ndate: [*b,*b]\n---\n" + block("FM Paper", hf("2511.00074")),
         lambda b: b.paper("2511.00074") is not None and b.paper("2511.00074")["date"] is None),
    Case("no-blocks.md", "# Just notes\n\nnothing here\n", lambda b: has(b.problems("no-blocks.md"), "no paper blocks")),
    # 6. look-alike ids and hosts: refused, reported with what they imitate, never a paper
    *[
        Case(f"lookalike-{name}.md", daily(block(UI_TARS_TITLE, f"https://arxiv.org/abs/{digits}")),
             lambda b, n=name, d=digits: b.paper(d) is None and UI_TARS not in b.search_ids("해로운 다이제스트")
             and has(b.problems(f"lookalike-{n}.md"), rf"look-alike characters .*imitates 'https://arxiv.org/abs/{UI_TARS}'"))
        for name, digits in (("fullwidth", "２５０９.０２５４４"), ("arabic-indic", "٢٥٠٩.٠٢٥٤٤"), ("math-bold", "𝟐𝟓𝟎𝟗.𝟎𝟐𝟓𝟒𝟒"))
    ],
    Case("lookalike-dotless-host.md", daily(block("Dotless Host Paper", "https://arxıv.org/abs/2511.00080")),
         lambda b: b.paper("2511.00080") is None and has(b.problems("lookalike-dotless-host.md"), "U\\+0131 LATIN SMALL LETTER DOTLESS I")),
    Case("lookalike-long-s.md", daily(block("Long S Paper", "httpſ://arxiv.org/abs/2511.00081")),
         lambda b: b.paper("2511.00081") is None and has(b.problems("lookalike-long-s.md"), "look-alike")),
    # 7. papers no reader sees: in a comment, a code block, hidden HTML; the visible one is kept
    *[
        Case(f"hidden-{name}.md", daily(before + block("Hidden Paper", hf(pid)) + after, block("Shown Paper", hf(shown), n=2)),
             lambda b, n=name, pid=pid, shown=shown, why=why: b.paper(pid) is None and b.paper(shown) is not None
             and "Hidden Paper" not in b.search_titles("Hidden Paper")
             and has(b.problems(f"hidden-{n}.md"), f"paper heading inside {why}: not indexed"))
        for name, before, after, pid, shown, why in (
            ("comment", "<!--\n", "-->\n\n", "2511.00082", "2511.00083", "an HTML comment"),
            ("fence", "```markdown\n", "```\n\n", "2511.00084", "2511.00085", "a code block"),
            ("div", "<div hidden>\n\n", "\n</div>\n\n", "2511.00086", "2511.00087", "hidden HTML"),
            ("style", '<section style="display:none">\n\n', "\n</section>\n\n", "2511.00088", "2511.00089", "hidden HTML"),
        )
    ],
    Case("inline-comment.md", daily(block("Inline Comment Paper", hf("2511.00090"), "### 📌 요약\n보이는 요약 <!-- 숨은스팸단어 --> 끝.\n")),
         lambda b: b.paper("2511.00090")["summary"] == "보이는 요약  끝." and not b.search_ids("숨은스팸단어")),
    # 8. lines that made the old patterns backtrack for minutes: parsed at once, as text
    Case("long-upvotes-line.md", daily(block("Long Upvotes Line Paper", hf("2511.00091"),
                                             "**Upvotes**" + " " * 40_000 + "x\n\n" + SUMMARY)),
         lambda b: b.paper("2511.00091")["upvotes"] == 3),
    Case("long-heading-line.md", daily(block("Long Heading Line Paper", hf("2511.00092"), SUMMARY + "#### x" + " " * 1_000_000 + "y\n")),
         lambda b: b.paper("2511.00092")["summary"] == "해로운 다이제스트의 요약입니다."),
]
