"""The web page in a real browser: Playwright drives Debian's chromium against uvicorn.

Skipped only where /usr/bin/chromium is absent (CI installs it). Playwright's own browser
downloads are never used. Set PAPERSEARCH_SCREENSHOT=docs/screenshot.png to also save the
page with results (1280x900), as shown in the README.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from papersearch.api import create_app
from tests.api_support import serve_in_thread

CHROMIUM = Path("/usr/bin/chromium")
QUERY = "다중 턴 강화학습"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def base_url(bundled_index: Path) -> Iterator[str]:
    # conftest's session index with the bundled encoders (e5 and use): real results, so
    # the screenshots show what a user sees.
    with serve_in_thread(create_app(bundled_index)) as url:
        yield url


@pytest.fixture()
def page(tmp_path: Path) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user-data-dir per test
            executable_path=str(CHROMIUM),
            args=ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
            locale="ko-KR",
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def test_korean_query_results_scores_and_similar(page, base_url: str) -> None:
    from playwright.sync_api import expect

    searches: list[str] = []
    page.on("request", lambda r: searches.append(r.url) if "/api/search" in r.url else None)
    page.goto(base_url + "/")
    expect(page.locator("#health")).to_contain_text("72편")

    box = page.locator("#q")
    box.click()
    box.press_sequentially(QUERY)
    # An Enter that commits an IME composition must not search.
    box.dispatch_event("keydown", {"key": "Enter", "isComposing": True})
    box.dispatch_event("keydown", {"key": "Enter", "keyCode": 229})
    page.wait_for_timeout(300)
    assert searches == []

    box.press("Enter")
    results = page.locator("#results > li.result")
    expect(results.first).to_be_visible()
    assert results.count() == 10 and len(searches) == 1
    expect(page.locator("#stats")).to_contain_text("하이브리드")
    ui_tars = results.filter(has_text="UI-TARS-2")
    expect(ui_tars).to_have_count(1)
    expect(ui_tars.locator(".snippet mark").first).to_be_visible()
    marks = ui_tars.locator(".snippet mark").all_inner_texts()
    assert any("강화학습" in m for m in marks), marks
    assert ui_tars.locator("a.title").get_attribute("href") == "/paper/2509.02544"  # the paper view
    assert ui_tars.locator("a.source").get_attribute("href") == "https://arxiv.org/abs/2509.02544"

    ui_tars.locator(".score-btn").click()
    scores = ui_tars.locator(".scores")
    expect(scores).to_be_visible()
    expect(scores).to_contain_text("BM25")
    expect(scores).to_contain_text("임베딩")
    expect(scores.locator(".term", has_text="강화")).to_have_count(1)

    ui_tars.locator(".similar-btn").click()
    similar = ui_tars.locator(".similar li")
    expect(similar).to_have_count(5)
    assert "UI-TARS-2" not in " ".join(similar.all_inner_texts())
    assert "q=" in page.url and "mode=" not in page.url  # hybrid, the default, stays out of the URL

    shot = os.environ.get("PAPERSEARCH_SCREENSHOT")
    if shot:
        page.screenshot(path=shot)


def test_mode_toggle_no_results_and_errors(page, base_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(base_url + "/?mode=bm25&q=" + "zzqxjw")
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#empty")).to_contain_text("결과가 없습니다")
    assert page.locator("#results > li").count() == 0

    page.locator("#q").fill("GUI agent")
    page.locator("#q").press("Enter")
    expect(page.locator("#results > li.result").first).to_be_visible()
    expect(page.locator("#stats")).to_contain_text("BM25")
    page.get_by_text("임베딩", exact=True).click()  # "dense": every dense leg
    expect(page.locator("#stats")).to_contain_text("임베딩")

    # A failing API shows its message in Korean, not a blank page; the English detail is
    # the tooltip, and a body without a code (an older server) gets a Korean line too.
    page.route(re.compile(r".*/api/search.*"), lambda route: route.fulfill(
        status=503, content_type="application/json", body='{"detail": "no index at /x", "code": "index_not_found", "params": {}}'))
    page.locator("#q").press("Enter")
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#error")).to_contain_text("불러온 인덱스가 없습니다")
    assert page.locator("#error").get_attribute("title") == "no index at /x"
    assert page.locator("#results > li").count() == 0
    page.unroute(re.compile(r".*/api/search.*"))
    page.route(re.compile(r".*/api/search.*"), lambda route: route.fulfill(
        status=503, content_type="application/json", body='{"detail": "no index at /x"}'))
    page.locator("#q").press("Enter")
    expect(page.locator("#error")).to_contain_text("요청을 처리하지 못했습니다 (HTTP 503)")
