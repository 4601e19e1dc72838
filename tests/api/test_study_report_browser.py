"""The planner's study and what-if reports in a real browser (Debian's Chromium through
Playwright): every picture renders, the PNG files written beside the report load, nothing
scrolls sideways at 1200 px, and screenshots are left under ``artifacts/`` to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from capacity import load_scenario, render_what_if, run_study, what_if, write_study
from grid_models import load_model

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
WIDTH, HEIGHT = 1200, 900


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    model = load_model("builtin:anyang")
    folder = tmp_path_factory.mktemp("study")
    study = run_study(model, load_scenario(ROOT / "examples" / "what_if_five_years.yaml", model))
    write_study(study, folder)
    snapshot = what_if(model, load_scenario(ROOT / "examples" / "what_if_core_growth.yaml", model))
    (folder / "what_if.html").write_text(render_what_if(snapshot), "utf-8")
    return {"study": folder / "study.html", "what_if": folder / "what_if.html"}


def _check_page(browser: Any, page_file: Path, name: str, figures_min: int) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        page.goto(page_file.as_uri())
        page.screenshot(path=str(ARTIFACTS / f"{name}_report_desktop.png"), full_page=True)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= WIDTH, f"{name} report scrolls sideways at {WIDTH} px: {scroll} px"
        figures = page.locator("svg.figure")
        assert figures.count() >= figures_min
        for i in range(figures.count()):
            fig = figures.nth(i)
            box = fig.bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 100, (name, i)
            assert box["x"] + box["width"] <= WIDTH + 0.5, f"{name} figure {i} overflows"
            drawn = fig.evaluate("svg => svg.querySelectorAll('rect,circle,path,polyline').length")
            assert drawn > 20, f"{name} figure {i} is empty"
            label = fig.get_attribute("aria-label") or ""
            assert any(t in label for t in ("容量", "负载率", "问题", "投资", "变红"))
            fig.screenshot(path=str(ARTIFACTS / f"{name}_figure_{i}.png"))
        # the legend and the axes are there to read, not only drawn
        text = page.locator("body").inner_text()
        assert "规划推演" in text
    finally:
        page.close()


def test_study_report_renders_without_sideways_scrolling(browser, reports):
    _check_page(browser, reports["study"], "study", figures_min=5)
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        page.goto(reports["study"].as_uri())
        maps = page.locator('svg.figure[aria-label*="现状可开放容量"]').inner_html()
        for legend in ("灯色较现状变差", "变电站", "市区", "10kV线路"):
            assert legend in maps  # the map explains itself
        bars = page.locator('svg.figure[aria-label*="问题"]').inner_html()
        assert "规划年" in bars and "问题数" in bars  # the axes carry their labels
        loading = page.locator('svg.figure[aria-label*="负载率"]').inner_html()
        assert "负载率（%" in loading and ">100<" in loading
        assert page.get_by_role("heading", name="项目库", exact=True).count() == 1
    finally:
        page.close()


def test_the_png_pictures_beside_the_report_load(browser, reports):
    folder = reports["study"].parent
    pngs = sorted(folder.glob("*.png"))
    assert len(pngs) == 5
    gallery = folder / "gallery.html"
    gallery.write_text(
        "<!DOCTYPE html><html><body>"
        + "".join(f'<img src="{p.name}" alt="{p.stem}">' for p in pngs)
        + "</body></html>",
        "utf-8",
    )
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        page.goto(gallery.as_uri())
        page.wait_for_load_state("load")
        sizes = page.evaluate(
            "Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])"
        )
        assert len(sizes) == len(pngs)
        for alt, complete, natural in sizes:
            assert complete and natural > 300, f"{alt}.png did not load"
    finally:
        page.close()


def test_what_if_report_renders_without_sideways_scrolling(browser, reports):
    _check_page(browser, reports["what_if"], "what_if", figures_min=2)
