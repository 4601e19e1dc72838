"""The customer's documents in a real browser (Debian's Chromium through Playwright): the
HV reply sheet and the LV notice render on a desktop and a phone without sideways
scrolling, print on A4, and leave screenshots under ``artifacts/`` to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheme_generator import render_reply_sheet
from tests.scheme_generator.test_documents import scheme

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
VIEWPORTS = {"desktop": (1200, 900), "phone": (390, 844)}


@pytest.mark.parametrize(
    "kind, document", [("hospital", "reply_sheet_hv"), ("workshop", "notice_lv")]
)
def test_document_renders_on_desktop_phone_and_a4(browser, tmp_path, kind, document):
    page_file = tmp_path / f"{document}.html"
    page_file.write_text(
        render_reply_sheet(scheme(kind), application_id="0123456789abcdef"), "utf-8"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    for name, (width, height) in VIEWPORTS.items():
        page = browser.new_page(viewport={"width": width, "height": height})
        try:
            page.goto(page_file.as_uri())
            page.screenshot(path=str(ARTIFACTS / f"{document}_{name}.png"), full_page=True)
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{document} scrolls sideways on the {name}: {scroll} px"
            heading = page.locator("h1").inner_text()
            assert heading.replace(" ", "") in ("供电方案答复单", "供电方案告知书")
            if name == "desktop":
                pdf = page.pdf(format="A4")
                assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 1
        finally:
            page.close()
