"""What a new user trips over on the page, measured in a real browser: results per screen,
Tab stops to the first result, a phone's width, modes that cannot answer, the chosen
papers of "papers like these", a paper's PDF and BibTeX."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from papersearch.api import create_app
from tests.api_support import serve_in_thread
from tests.test_web_browser import QUERY, base_url, page, pytestmark  # noqa: F401  (fixtures, skip mark)

RESULTS = "#results > li.result"


@pytest.fixture(scope="module")
def bm25_url(bm25_index: Path) -> Iterator[str]:
    with serve_in_thread(create_app(bm25_index)) as url:
        yield url


def test_five_results_to_a_screen_and_few_tab_stops(page, base_url: str) -> None:  # noqa: F811
    page.goto(f"{base_url}/?q={QUERY}")
    page.locator(RESULTS).first.wait_for()
    # 1280x900: the page once showed 2 whole results, with 14 Tab stops before the first.
    whole = page.evaluate(f"() => [...document.querySelectorAll('{RESULTS}')].filter(e => e.getBoundingClientRect().bottom <= innerHeight).length")
    assert whole >= 5
    page.locator("#q").focus()
    for presses in range(1, 20):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => document.activeElement.matches('{RESULTS} a.title')"):
            break
    assert presses <= 6, presses
    assert page.locator("#filter-box").get_attribute("open") is None  # no filter on: folded away


def test_a_phone_width_keeps_labels_whole(page, base_url: str) -> None:  # noqa: F811
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base_url}/?q={QUERY}")
    page.locator(RESULTS).first.wait_for()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    lines = page.evaluate("() => [...document.querySelectorAll('.modes span, .result .actions > *')].map(e => e.getClientRects().length)")
    assert lines and all(n == 1 for n in lines), lines  # no label broken inside its word
    heights = page.evaluate("() => [...document.querySelectorAll('.modes span')].map(e => e.getBoundingClientRect().height)")
    assert max(heights) < 36, heights


def test_a_mode_the_index_cannot_answer_looks_unavailable(page, bm25_url: str) -> None:
    page.goto(bm25_url + "/")
    page.locator('#modes input[value="hybrid"]').wait_for(state="attached")
    page.wait_for_function("() => document.querySelector('#modes input[value=\"hybrid\"]').disabled")
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.querySelector('#modes input[value=\"hybrid\"] + span'));"
        " return [Number(s.opacity), s.cursor, s.textDecorationLine]; }"
    )
    assert style[0] < 0.6 and style[1] == "not-allowed" and "line-through" in style[2], style
    bm25 = page.evaluate("() => Number(getComputedStyle(document.querySelector('#modes input[value=\"bm25\"] + span')).opacity)")
    assert bm25 == 1


def test_papers_like_these_lists_the_chosen_ones(page, base_url: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page.goto(f"{base_url}/?q={QUERY}")
    results = page.locator(RESULTS)
    expect(results.first).to_be_visible()
    titles = [results.nth(i).locator("a.title").inner_text() for i in (0, 1)]
    ids = [results.nth(i).get_attribute("data-id") for i in (0, 1)]
    for i in (0, 1):
        results.nth(i).locator(".pick").check()
    page.locator("#like-these").click()
    chosen = page.locator("#like-chosen li a")
    expect(chosen).to_have_count(2)
    assert chosen.all_inner_texts() == titles
    # A shared /?like= URL names them too (their titles asked of the API).
    page.goto(f"{base_url}/?like={','.join(ids)}")
    expect(page.locator("#like-chosen li a")).to_have_text(titles)
    assert page.locator("#like-chosen li a").first.get_attribute("href") == f"/paper/{ids[0]}"


def test_paper_view_links_the_pdf_and_gives_bibtex(page, base_url: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page.goto(base_url + "/paper/2509.02544")
    pdf = page.get_by_role("link", name="PDF")
    expect(pdf).to_have_attribute("href", "https://arxiv.org/pdf/2509.02544")
    page.get_by_role("button", name="BibTeX").click()
    bib = page.locator(".pv-bibtex")
    expect(bib).to_be_visible()
    text = bib.inner_text()
    assert text.startswith("@misc{arxiv2509.02544,") and "eprint = {2509.02544}" in text and "archivePrefix = {arXiv}" in text
    assert "title = {UI-TARS-2 Technical Report" in text and "year = {2025}" in text
    assert text.count("{") == text.count("}")  # a digest's braces cannot break the entry


def test_filters_open_by_themselves_when_the_url_sets_one(page, base_url: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page.goto(f"{base_url}/?q={QUERY}&up=1&sort=newest")
    expect(page.locator("#filter-box")).to_have_attribute("open", "")
    expect(page.locator("#filter-summary")).to_contain_text("추천 ≥ 1")
    expect(page.locator("#filter-summary")).to_contain_text("최신순")
