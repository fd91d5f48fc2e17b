"""Screenshots of the web app's main views for docs/web.md: ``python docs/figures/web_screenshots.py``.

Starts ``refuge serve`` on a free loopback port, drives Debian's chromium with Playwright
through a run and a comparison, and writes ``web-*.png`` beside this file.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("web_load", HERE.parents[1] / "benchmarks" / "web_load.py")
web_load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(web_load)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip


def main() -> None:
    server, base = web_load.start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base)
            expect(page.locator("body[data-ready=yes]")).to_have_count(1, timeout=60_000)
            page.select_option("#builtin", "china-refugee-status")
            expect(page.locator("#levers tbody tr")).to_have_count(1)
            page.fill("#members", "40")
            page.click("#run")
            expect(page.locator("#chart-arrivals[data-job]")).to_have_count(1, timeout=300_000)
            page.screenshot(path=HERE / "web-run.png", full_page=True)
            page.click("nav button[data-tab=compare]")
            page.select_option("#compare-1", "border-closure")
            page.select_option("#compare-2", "china-refugee-status")
            page.fill("#compare-members", "20")
            page.click("#compare")
            expect(page.locator("#chart-compare[data-job]")).to_have_count(1, timeout=300_000)
            page.screenshot(path=HERE / "web-compare.png", full_page=True)
            page.click("nav button[data-tab=map]")
            expect(page.locator("#chart-map .scatterlayer .trace").first).to_be_attached()
            page.screenshot(path=HERE / "web-map.png")
            page.click("nav button[data-tab=evidence]")
            page.screenshot(path=HERE / "web-evidence.png")
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    print(f"wrote {', '.join(sorted(p.name for p in HERE.glob('web-*.png')))}", file=sys.stderr)


if __name__ == "__main__":
    main()
