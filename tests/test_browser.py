"""End to end in headless Chromium: the app on a free localhost port (extractive engine, session index);
an example question answered with a citation whose paragraph is in the sources panel, opened in context;
user text shown as text; a comparison of two authorities; the judgements grid. Screenshots go to
tests/artifacts/ (git-ignored)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import require

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"]
TIMEOUT_MS = 30_000
DIALOGS: list[str] = []

pytestmark = pytest.mark.slow




@pytest.fixture(scope="module")
def page(app_url):
    require(CHROMIUM.exists(), "Debian's chromium at /usr/bin/chromium (apt-get install -y chromium "
                               "chromium-driver; .ci/run does this)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        page.on("dialog", lambda d: (DIALOGS.append(d.message), d.dismiss()))   # an alert() = unescaped text
        page.goto(app_url)
        page.wait_for_selector("#question textarea")
        yield page
        browser.close()


def test_the_web_app_end_to_end(page, assistant):
    started = time.perf_counter()
    ARTIFACTS.mkdir(exist_ok=True)
    from rag.web.handlers import EXAMPLES

    # The empty chat offers the three examples; clicking the lookup one answers it.
    chat = page.locator("#chatbot")
    for example in EXAMPLES:
        assert chat.get_by_text(example).count() == 1
    chat.get_by_text(EXAMPLES[0]).click()
    page.wait_for_selector("#sources .source-card .key")
    expected = assistant.ask(EXAMPLES[0]).citations[0]
    answer = chat.locator(".message-row").last
    assert answer.locator("sup.cite").count() >= 1 and "[1]" in answer.inner_text()
    card = page.locator(f'#sources .source-card[data-paragraph="{expected.paragraph.id}"]')
    assert card.count() == 1
    assert expected.quote[:60] in card.locator("mark").inner_text()
    assert "Engine: extractive" in page.inner_text("#engine")
    page.screenshot(path=str(ARTIFACTS / "chat-with-sources.png"), full_page=True)

    # A citation mark scrolls its card into view and highlights it.
    page.evaluate("document.querySelector('#sources').scrollTop = 100000")
    answer.locator("sup.cite a").first.click()
    page.wait_for_function("(() => { const c = document.querySelector('#source-1-1');"
                           " const r = c.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight"
                           " && c.classList.contains('flash'); })()")

    # The conversation downloads as Markdown with its references.
    page.wait_for_function("!document.querySelector('#export-conversation').disabled")
    with page.expect_download() as download:
        page.click("#export-conversation")
    exported = Path(download.value.path()).read_text()
    assert EXAMPLES[0] in exported and "References:" in exported and expected.paragraph.id in exported

    # Open the cited paragraph in context: its neighbours and heading path.
    card.locator("button.open-context").click()
    page.wait_for_selector("#chat-context .context-para.target")
    context = page.inner_text("#chat-context")
    assert "Heading path:" in context and expected.paragraph.text[:60] in context

    # User text is shown as text, never run.
    page.fill("#question textarea", "<script>alert('x')</script><b>bold</b>")
    page.click("#ask")
    page.wait_for_function("document.querySelectorAll('#chatbot .answer-facts').length >= 2")
    assert "<script>alert('x')</script><b>bold</b>" in chat.locator(".message-row").nth(2).inner_text()
    assert DIALOGS == [] and chat.locator("b:text-is('bold')").count() == 0

    # The first answer's marks still reach its own cards, folded under the latest answer's.
    page.evaluate("document.querySelector('#sources').scrollTop = 0")
    chat.locator(".message-row").nth(1).locator("sup.cite a").first.click()
    page.wait_for_function("(() => { const c = document.querySelector('#source-1-1');"
                           " const r = c.getBoundingClientRect(); return c.closest('details').open && r.top >= 0"
                           " && r.bottom <= innerHeight && c.classList.contains('flash'); })()")

    # Compare mode: two authorities side by side, each column with cited cells.
    page.get_by_role("tab", name="Compare authorities").click()
    for authority in ("Wandsworth", "Windsor and Maidenhead"):
        page.click("#compare-authorities input")
        page.get_by_role("option", name=authority, exact=True).click()
    page.keyboard.press("Escape")
    page.fill("#compare-topic textarea", "adoption")
    page.click("#compare-button")
    page.wait_for_selector("#compare-table table")
    headers = page.locator("#compare-table thead th").all_inner_texts()
    assert headers[1:] == ["Wandsworth", "Windsor and Maidenhead"]
    cells = page.locator("#compare-table tbody td")
    assert cells.count() == 2 and all(cells.nth(i).locator("sup.cite").count() >= 1 for i in range(2))
    page.wait_for_selector("#compare-sources .source-card")
    page.screenshot(path=str(ARTIFACTS / "compare-table.png"), full_page=True)

    # The judgements grid: coloured grades, each opening the paragraph that states it.
    page.get_by_role("tab", name="Judgements").click()
    grade = page.locator("#judgements-grid button.grade-inadequate").first
    paragraph_id = grade.get_attribute("data-paragraph")
    grade.click()
    page.wait_for_selector("#grid-context .context-para.target")
    assert paragraph_id in page.inner_text("#grid-context")
    page.wait_for_function("(() => { const t = document.querySelector('#grid-context .context-para.target');"
                           " const r = t.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()")
    page.screenshot(path=str(ARTIFACTS / "judgements-grid.png"), full_page=True)
    print(f"\nbrowser test: {time.perf_counter() - started:.1f} s")
