"""One language on the Korean page: every error code the server can send and every
notice code is worded in Korean by the page itself (papersearch/web/messages.js), walked
in a real browser; bad URL values are shown, not silently dropped."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import search
from papersearch.api import create_app
from papersearch.api_errors import HTTP_CODES
from papersearch.api_models import SearchOut
from search.core.errors import PaperSearchError, class_code
from tests.conftest import REPO
from tests.test_web_browser import base_url, page, pytestmark  # noqa: F401  (fixtures, skip mark)

HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Latin words a Korean line may hold besides the user's own values: formats, the legs'
# and modes' own names, acronyms.
LATIN_OK = {"YYYY", "JSON", "HTTP", "true", "false", "bm25", "hybrid", "dense"}


def _codes_in_source() -> set[str]:
    """Every ``code="..."`` a library error is raised with, and every error class's own code."""
    found: set[str] = set()
    classes: list[tuple[str, str]] = []  # (class, base) for every class in the source
    for root in (Path(search.__file__).parent, REPO / "papersearch", REPO / "index"):
        for path in root.rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            found |= set(re.findall(r'code="([a-z_]+)"', text))
            classes += re.findall(r"^class (\w+)\((\w+)\)", text, flags=re.M)
    # Every error class, imported or not (the Milvus ones load only with pymilvus).
    errors = {PaperSearchError.__name__}
    while new := {cls for cls, base in classes if base in errors} - errors:
        errors |= new
    found |= {class_code(n) for n in errors}
    return found | set(HTTP_CODES.values()) | {"invalid_param", "internal_error"}



def _bad_requests(index: Path, missing: Path) -> list[dict]:
    """Real error bodies for every kind of bad request the page or a user can make."""
    gets = [
        {"q": " "}, {"q": "a" * 600}, {}, {"q": "a", "k": 0}, {"q": "a", "k": "abc"}, {"q": "a", "k": 1000},
        {"q": "a", "offset": -1}, {"q": "a", "min_upvotes": -5}, {"q": "a", "min_upvotes": "1.5"},
        {"q": "a", "date_from": "2025-02-30"}, {"q": "a", "date_from": "2025-09-10", "date_to": "2025-09-01"},
        {"q": "a", "mode": "nosuch"}, {"q": "a", "sort": "x"}, {"q": "a", "fusion": "x"}, {"q": "a", "rrf_k": -1},
        {"q": "a", "weights": "foo"}, {"q": "a", "weights": "foo=x"}, {"q": "a", "weights": "foo=1"},
        {"q": "a", "weights": "bm25=100000"},
    ]
    bodies = []
    with TestClient(create_app(index)) as client:
        for params in gets:
            r = client.get("/api/search", params=params)
            bodies.append((r.status_code, r.json()))
        for body in [{}, {"ids": []}, {"ids": [f"2509.{i:05d}" for i in range(30)]}, {"text": ""}, {"text": "x" * 30000},
                     {"text": "a", "ids": ["2509.02544"]}, {"ids": ["0000.00000"]}, {"text": "a", "k": "many"}]:
            r = client.post("/api/similar", json=body)
            bodies.append((r.status_code, r.json()))
        r = client.post("/api/similar", content=b"{not json", headers={"Content-Type": "application/json"})
        bodies.append((r.status_code, r.json()))
        for path in ["/api/papers/0000.00000", "/api/papers/0000.00000/similar", "/api/nope"]:
            r = client.get(path)
            bodies.append((r.status_code, r.json()))
        r = client.delete("/api/search")
        bodies.append((r.status_code, r.json()))
        r = client.post("/api/reload", headers={"X-Forwarded-For": "203.0.113.9"})
        bodies.append((r.status_code, r.json()))
    with TestClient(create_app(missing)) as client:
        r = client.get("/api/search", params={"q": "a"})
        bodies.append((r.status_code, r.json()))
    bodies.append((500, {"detail": "internal error; see the server log", "code": "internal_error", "params": {}}))
    return [{"status": s, "body": b} for s, b in bodies]


def _values(params: dict) -> list[str]:
    out: list[str] = []
    for v in params.values():
        out.extend(map(str, v) if isinstance(v, list) else [str(v)])
    return out


def _assert_korean(line: str, body: dict) -> None:
    assert HANGUL.search(line), (line, body)
    assert not re.search(r"undefined|null|NaN|\[object", line), (line, body)
    assert body.get("detail", "") not in line or not body.get("detail"), (line, body)
    echoed = {w for v in _values(body.get("params") or {}) for w in re.findall(r"[A-Za-z]+", v)}  # the user's values
    latin = set(re.findall(r"[A-Za-z]{4,}", line)) - LATIN_OK - echoed
    assert not latin, (line, latin, body)


def test_every_error_code_and_real_error_is_korean(page, base_url: str, bundled_index: Path, tmp_path: Path) -> None:  # noqa: F811
    page.goto(base_url + "/")
    known = set(page.evaluate("() => Object.keys(ERRORS)"))
    missing_codes = _codes_in_source() - known
    assert not missing_codes, f"codes the server can send that the page does not word: {missing_codes}"

    bodies = _bad_requests(bundled_index, tmp_path / "no-index")
    assert all(isinstance(b["body"].get("code"), str) for b in bodies), [b for b in bodies if "code" not in b["body"]]
    lines = page.evaluate("(bs) => bs.map((b) => errorText(new ApiError(b.status, b.body)))", bodies)
    for line, b in zip(lines, bodies):
        _assert_korean(line, b["body"])
    # Each real kind was met at least once, and the generic line for an unknown code is Korean too.
    assert {b["body"]["code"] for b in bodies} >= {"bad_date", "date_range_inverted", "invalid_param", "paper_not_found",
                                                  "unknown_leg", "index_not_found", "not_found", "forbidden", "empty_text"}
    assert HANGUL.search(page.evaluate("() => errorText(new ApiError(418, {detail: 'teapot', code: 'brand_new'}))"))
    assert HANGUL.search(page.evaluate("() => errorText(new TypeError('Failed to fetch'))"))


def test_every_notice_code_is_korean(page, base_url: str) -> None:  # noqa: F811
    codes = typing.get_args(typing.get_args(SearchOut.model_fields["notice_code"].annotation)[0])
    assert codes  # the API's own list: dense_unavailable, legs_missing, dense_pending
    page.goto(base_url + "/")
    for code in [*codes, "brand_new"]:
        line = page.evaluate("(c) => noticeText({notice: 'English words here', notice_code: c, mode: 'bm25', requested_mode: 'hybrid'})", code)
        assert HANGUL.search(line) and "English" not in line, (code, line)
    known = set(page.evaluate("() => Object.keys(NOTICES)"))
    assert set(codes) <= known


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ("q=강화학습&up=-5", "최소 추천 수 값은 0 이상이어야 합니다."),
        ("q=강화학습&from=2025-09-10&to=2025-09-01", "시작 날짜(2025-09-10)가 끝 날짜(2025-09-01)보다 늦어"),
    ],
)
def test_the_page_shows_api_errors_in_korean(page, base_url: str, query: str, wanted: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page.goto(f"{base_url}/?{query}")
    expect(page.locator("#error")).to_contain_text(wanted)
    assert "Input should" not in page.locator("#error").inner_text()
    assert page.locator("#error").get_attribute("title")  # the English detail stays as a tooltip


def test_bad_url_values_are_shown_not_dropped(page, base_url: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page.goto(f"{base_url}/?q=강화학습&from=2025-02-30&sort=sideways&mode=nosuch")
    box = page.locator("#url-problems")
    expect(box).to_be_visible()
    for part in ["시작 날짜 ‘2025-02-30’", "정렬 ‘sideways’", "검색 방식 ‘nosuch’"]:
        expect(box).to_contain_text(part)
    expect(page.locator("#results > li.result").first).to_be_visible()  # searched without them
    page.locator("#q").fill("멀티모달")
    page.locator("#q").press("Enter")
    expect(box).to_be_hidden()  # a search of the user's own: the URL's note is old


def test_unknown_paper_page_and_footer_are_korean(page, base_url: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page.goto(f"{base_url}/paper/0000.00000")
    expect(page.locator("#paper-view .banner.error")).to_contain_text("인덱스에 ID가 ‘0000.00000’인 논문이 없습니다.")
    page.goto(base_url + "/")
    expect(page.locator("#health")).to_contain_text("임베딩 켜짐 (e5, use)")
