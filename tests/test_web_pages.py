"""The page's researcher features in real chromium: filters and sorting kept in the URL, the
paper view, the start page, "papers like these", keyboard use, modes and notices from the
API, the favicon and /docs with no internet.

Set PAPERSEARCH_SCREENSHOTS=docs to also save the README's screenshots (1280x900).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from papersearch.api import create_app
from tests.api_support import serve_in_thread
from tests.test_web_browser import base_url, page, pytestmark  # noqa: F401  (fixtures, skip mark)

SHOTS = os.environ.get("PAPERSEARCH_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / name))


@pytest.fixture(scope="module")
def bm25_url(bm25_index: Path) -> Iterator[str]:
    with serve_in_thread(create_app(bm25_index)) as url:
        yield url


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(url).query)


def dates(page) -> list[str]:
    return page.locator("#results > li.result .meta .date").all_inner_texts()


def test_filters_and_sort_are_applied_and_kept_in_the_url(page, base_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(base_url + "/?q=강화학습&from=2026-01-01&up=50&sort=newest")
    results = page.locator("#results > li.result")
    expect(results.first).to_be_visible()
    assert page.locator("#date-from").input_value() == "2026-01-01"
    assert page.locator("#min-upvotes").input_value() == "50"
    assert page.locator("#sort").input_value() == "newest"
    got = dates(page)
    assert got and all(d >= "2026-01-01" for d in got) and got == sorted(got, reverse=True)
    ups = [int(t.strip("▲ ")) for t in page.locator("#results .meta .up").all_inner_texts()]
    assert len(ups) == len(got) and min(ups) >= 50
    expect(page.locator("#stats")).to_contain_text("최신순")

    page.select_option("#sort", "upvotes")
    expect(page).to_have_url(re.compile(r"sort=upvotes"))
    expect(page.locator("#stats")).to_contain_text("추천순")
    ups = [int(t.strip("▲ ")) for t in page.locator("#results .meta .up").all_inner_texts()]
    assert ups == sorted(ups, reverse=True)
    shot(page, "filters.png")

    filtered = int(page.locator("#stats").inner_text().split("건")[0])
    page.locator("#clear-filters").click()
    expect(page).to_have_url(re.compile(r"/\?q=[^&]+$"))
    expect(page.locator("#stats")).not_to_contain_text("추천순")
    assert int(page.locator("#stats").inner_text().split("건")[0]) > filtered

    # A shared URL reproduces the search; the back button restores the filtered one.
    page.go_back()
    expect(page.locator("#sort")).to_have_value("upvotes")
    assert query_of(page.url)["up"] == ["50"]


def test_paper_view_has_its_own_url_and_everything_stored(page, base_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(base_url + "/?q=" + "다중 턴 강화학습")
    hit = page.locator("#results > li.result", has_text="UI-TARS-2")
    hit.locator("a.title").click()
    expect(page).to_have_url(base_url + "/paper/2509.02544")
    view = page.locator("#paper-view")
    expect(view.locator("h1")).to_contain_text("UI-TARS-2")
    assert view.locator(".pv-links a", has_text="arXiv").get_attribute("href") == "https://arxiv.org/abs/2509.02544"
    assert view.locator(".pv-links a", has_text="Hugging Face").get_attribute("href") == "https://huggingface.co/papers/2509.02544"
    expect(view.locator(".date")).to_have_text("2025-09-03")
    headings = view.locator(".pv-section h2").all_inner_texts()
    assert "요약" in headings and any(h.startswith("수록된 다이제스트") for h in headings), headings
    stored = json.loads(page.request.get(base_url + "/api/papers/2509.02544").text())
    for name in stored["sections"]:
        assert name in headings
    expect(view.locator(".pv-sources li")).to_have_count(len(stored["sources"]))
    bullets = [line for line in stored["sections"]["Introduction"].splitlines() if line.startswith("- ")]
    intro = view.locator(".pv-section").filter(has=page.locator("h2", has_text="Introduction"))
    expect(intro.locator("li")).to_have_count(len(bullets))  # Goal / Motivation / Contribution
    similar = view.locator("#pv-similar li")
    expect(similar).to_have_count(8)
    assert "UI-TARS-2" not in " ".join(similar.all_inner_texts())
    assert page.title().startswith("UI-TARS-2")
    shot(page, "paper.png")

    # Another paper's view by its link, and an unknown id says so.
    first = similar.first.locator("a")
    target = first.get_attribute("href")
    first.click()
    expect(page).to_have_url(base_url + target)
    expect(view.locator("#pv-similar li").first).to_be_visible()
    page.goto(base_url + "/paper/0000.00000")
    expect(view.locator(".error")).to_contain_text("논문이 없습니다")  # Korean; the English detail is the tooltip
    assert "no paper with id" in view.locator(".error").get_attribute("title")

    # Daily-format paper: upvotes, Korean summary, translated abstract, key points.
    daily = json.loads(page.request.get(base_url + "/api/papers/2601.20614").text())
    page.goto(base_url + "/paper/2601.20614")
    expect(view.locator(".up")).to_have_text(f"▲ {daily['upvotes']}")
    expect(view.locator(".pv-section h2", has_text="초록 (번역)")).to_be_visible()
    expect(view.locator(".pv-section", has_text="핵심 포인트").locator("li")).to_have_count(len(daily["key_points"]))


def test_start_page_offers_examples_from_the_index_and_newest_papers(page, base_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(base_url + "/")
    examples = page.locator("#examples li")
    expect(examples.first).to_be_visible()
    langs = set(page.locator("#examples .lang").all_inner_texts())
    assert {"한국어", "영어", "혼용"} <= langs
    newest = page.locator("#newest li")
    expect(newest).to_have_count(5)
    for hidden in ("#selection", "#like-view", "#empty", "#notice", "#error", "#more"):
        expect(page.locator(hidden)).to_be_hidden()
    assert all(d >= "2026-01-29" for d in page.locator("#newest .sdate").all_inner_texts())
    shot(page, "start.png")

    for lang in ("영어", "혼용"):
        page.goto(base_url + "/")
        button = page.locator("#examples li", has_text=lang).first.locator("button")
        query = button.inner_text()
        button.click()
        expect(page.locator("#results > li.result").first).to_be_visible()
        assert query_of(page.url)["q"] == [query]
        assert page.locator("#intro").is_hidden()
    newest_link = page.goto(base_url + "/") and page.locator("#newest a").first
    href = newest_link.get_attribute("href")
    assert href.startswith("/paper/")


def test_papers_like_these(page, base_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(base_url + "/?q=" + "다중 턴 강화학습")
    results = page.locator("#results > li.result")
    expect(results.first).to_be_visible()
    picked = [results.nth(i).get_attribute("data-id") for i in (0, 1)]
    for i in (0, 1):
        results.nth(i).locator(".pick").check()
    expect(page.locator("#selection")).to_contain_text("2편 선택됨")
    page.locator("#like-these").click()
    like = page.locator("#like-results > li.result")
    expect(like.first).to_be_visible()
    ids = [like.nth(i).get_attribute("data-id") for i in range(like.count())]
    assert len(ids) == 10 and not set(ids) & set(picked)
    expect(page.locator("#results > li")).to_have_count(0)  # the list replaces the search results
    assert query_of(page.url)["like"] == [",".join(picked)]
    expect(page.locator("#like-title")).to_contain_text("2편")
    # The API answers the same list.
    api = page.request.post(base_url + "/api/similar", data={"ids": picked, "k": 10})
    assert [h["id"] for h in api.json()["results"]] == ids
    shot(page, "like-these.png")


def test_keyboard_slash_enter_arrows_tab_and_visible_focus(page, base_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(base_url + "/")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("GUI agent")
    page.keyboard.press("Enter")
    titles = page.locator("#results > li.result a.title")
    expect(titles.first).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(titles.nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(titles.nth(1)).to_be_focused()
    outline = titles.nth(1).evaluate("e => getComputedStyle(e).outlineStyle + ' ' + getComputedStyle(e).outlineWidth")
    assert outline.startswith("solid") and not outline.endswith(" 0px"), outline
    page.keyboard.press("ArrowUp")
    expect(titles.nth(0)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.locator("#q")).to_be_focused()
    # Tab walks through a result's controls to the next result's title.
    titles.nth(0).focus()
    for _ in range(8):
        page.keyboard.press("Tab")
        if titles.nth(1).evaluate("e => e === document.activeElement"):
            break
    expect(titles.nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/paper/"))


def test_blank_query_after_no_results_clears_the_message(page, base_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(base_url + "/?q=zzqxjw&mode=bm25")  # hybrid's dense leg finds every paper
    expect(page.locator("#empty")).to_contain_text("결과가 없습니다")
    page.locator("#q").fill("   ")
    page.locator("#q").press("Enter")
    expect(page.locator("#empty")).to_be_hidden()
    expect(page.locator("#error")).to_be_hidden()
    expect(page.locator("#intro")).to_be_visible()
    assert "q=" not in page.url


def test_bm25_only_index_offers_only_bm25(page, bm25_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(bm25_url + "/?q=강화학습")
    expect(page.locator("#results > li.result").first).to_be_visible()
    expect(page.locator('input[name="mode"][value="bm25"]')).to_be_checked()
    expect(page.locator('input[name="mode"][value="dense"]')).to_be_disabled()
    expect(page.locator('input[name="mode"][value="hybrid"]')).to_be_disabled()
    expect(page.locator("#notice")).to_be_hidden()
    # A hybrid request answered by BM25 is explained in Korean.
    page.goto(bm25_url + "/?q=강화학습&mode=dense")
    expect(page.locator("#results > li.result").first).to_be_visible()  # the toggle is built by now
    expect(page.locator('input[name="mode"][value="bm25"]')).to_be_checked()  # dense asked, not offered
    page.evaluate("() => { const r = document.querySelector('input[value=dense]'); r.disabled = false; r.checked = true; }")
    page.locator("#q").press("Enter")
    expect(page.locator("#notice")).to_contain_text("임베딩 검색을 쓸 수 없어 BM25로만 검색했습니다")


def test_modes_notice_code_and_legs_from_the_new_api_shape(page, base_url: str) -> None:
    """The page follows /api/health's "modes", the search's "notice_code" and each hit's
    "legs" when the server sends them (several dense legs)."""
    from playwright.sync_api import expect

    def health(route) -> None:
        body = route.fetch().json() | {"modes": ["hybrid", "bm25", "dense", "e5", "use"]}
        route.fulfill(json=body)

    def search(route) -> None:
        # Today's server knows no "e5" mode: ask it for hybrid, answer in the new shape.
        body = route.fetch(url=route.request.url.replace("mode=e5", "mode=hybrid")).json()
        assert "mode=e5" in route.request.url
        body["notice_code"] = "dense_unavailable"
        for hit in body["results"]:
            hit["legs"] = {"bm25": hit["bm25"], "e5": {"rank": 3, "score": 0.5}, "use": None}
        route.fulfill(json=body)

    page.route(re.compile(r".*/api/health$"), health)
    page.route(re.compile(r".*/api/search\?.*"), search)
    page.goto(base_url + "/?q=강화학습&mode=e5")
    expect(page.locator('#modes input[name="mode"]')).to_have_count(5)
    expect(page.locator('input[name="mode"][value="e5"]')).to_be_checked()
    expect(page.locator("#notice")).to_have_text("알림: 임베딩 검색을 쓸 수 없어 BM25로만 검색했습니다.")
    first = page.locator("#results > li.result").first
    first.locator(".score-btn").click()
    scores = first.locator(".scores")
    expect(scores).to_contain_text("임베딩 (e5)")
    expect(scores).to_contain_text("#3 · 점수 0.500")
    expect(scores.locator("tr", has_text="임베딩 (use)")).to_contain_text("후보에 없음")


def test_docs_render_offline_and_the_favicon(page, base_url: str) -> None:
    from playwright.sync_api import expect

    outside: list[str] = []

    def block(route) -> None:
        if urlparse(route.request.url).hostname != "127.0.0.1":
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", block)
    page.goto(base_url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("papersearch")
    expect(page.locator(".opblock-summary-path", has_text="/api/search").first).to_be_visible()
    assert outside == []  # Swagger UI asked nothing from outside
    page.goto(base_url + "/redoc")
    expect(page.locator("h1", has_text="papersearch")).to_be_visible()
    # ReDoc's footer logo is its only outside request, blocked here: the page renders anyway.
    assert all(u.endswith((".svg", ".png")) for u in outside), outside
    page.goto(base_url + "/")
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert page.request.get(base_url + icon).ok
    favicon = page.request.get(base_url + "/favicon.ico")
    assert favicon.ok and favicon.headers["content-type"].startswith("image/svg")
