"""The HTML report: one self-contained file (parsed here, on every machine) that a real browser draws
(headless Chromium, where it is installed)."""
from __future__ import annotations

import base64
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lrdoctor.reporters import render

SAMPLE_LOGS = Path(__file__).resolve().parents[1] / "sample_logs"
# 1x1 PNG: stands for a plot (the CLI draws the real ones)
PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


class _Page(HTMLParser):
    """Collects what the tests look at: tags seen, URLs referenced, the summary table's cells, ids."""

    def __init__(self):
        super().__init__()
        self.tags, self.urls, self.ids, self.rows, self.headers = [], [], set(), [], []
        self._cell, self._in_summary, self._stack = None, False, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.urls += [attrs[a] for a in ("src", "href") if a in attrs]
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "table" and attrs.get("id") == "summary":
            self._in_summary = True
        if self._in_summary and tag == "tr":
            self.rows.append([])
        if self._in_summary and tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_summary = False
        if self._in_summary and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def test_html_is_self_contained_with_a_sortable_summary(sample_report):
    text = render(sample_report, "html", plots={"runs/diverged": PIXEL})
    page = _parse(text)
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert page.rows[0] == ["Run", "Status", "Action", "LR now → new", "Why", "Loss"]
    assert [row[:4] for row in page.rows[1:]] == [
        ["runs/diverged", "ERROR", "decrease", "0.0155 → 0.00155"], ["overfit", "WARNING", "stop-early", "0.0003"],
        ["short", "OK", "keep", "0.001"], ["good", "OK", "keep", "0.001"]]
    assert 'class="sortable"' in text and "addEventListener('click'" in text
    # nothing to fetch: every link is an in-page anchor, every image inline
    assert all(u.startswith("#run-") or u.startswith("data:image/png;base64,") for u in page.urls), page.urls
    assert "link" not in page.tags and "default-src 'none'" in text
    assert {u[1:] for u in page.urls if u.startswith("#")} <= page.ids  # the table links reach the sections
    assert sum(u.startswith("data:image/png") for u in page.urls) == 1
    assert "&lt;worst&gt;" in text and "<worst>" not in text  # messages escaped
    assert "No validation loss in short: overfitting was not checked" in text  # the note, once
    assert text.count("No validation loss") == 1


def test_html_escapes_names_that_look_like_markup():
    from lrdoctor.report import Report, RunResult

    name = 'a"><script>alert(1)</script>\x1b[31m'
    page_text = render(Report(runs=(RunResult(name, name, "csv"),)), "html")
    assert "<script>alert(1)" not in page_text and "&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[31m" in page_text
    assert _parse(page_text).tags.count("script") == 1  # only the sorting script


def _chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.mark.skipif(_chromium() is None, reason="no Chromium here (Debian: apt-get install chromium)")
def test_chromium_draws_the_report_of_the_sample_logs(run_cli, tmp_path):
    import numpy as np
    from matplotlib.image import imread

    html = tmp_path / "report.html"
    run_cli(["diagnose", SAMPLE_LOGS, "--save", f"html={html}", "--fail-on", "never", "-q"], 0)
    page = _parse(html.read_text(encoding="utf-8"))
    assert len(page.rows) == 1 + 6 and sum(u.startswith("data:image/png") for u in page.urls) == 6
    shot = tmp_path / "shot.png"
    subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1280,1400", f"--screenshot={shot}", html.as_uri()],
                   capture_output=True, timeout=120, cwd=tmp_path)
    assert shot.exists(), "Chromium wrote no screenshot"
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (1400, 1280)
    not_white = (pixels < 0.9).any(axis=-1)
    assert not_white.mean() > 0.05, "the screenshot is (nearly) blank"
    # the status badges are drawn in colour (red ERROR, green OK), not just black text on white
    red = (pixels[..., 0] > 0.7) & (pixels[..., 1] < 0.3) & (pixels[..., 2] < 0.3)
    green = (pixels[..., 1] > 0.4) & (pixels[..., 0] < 0.2) & (pixels[..., 2] < 0.3)
    assert red.sum() > 100 and green.sum() > 100
    assert float(np.std(pixels)) > 0.05


@pytest.mark.skipif(_chromium() is None, reason="no Chromium here (Debian: apt-get install chromium)")
def test_chromium_sorts_the_summary_table(sample_report, tmp_path):
    # Click "Run" twice (ascending, then descending) and write the first run after each click into the page.
    probe = ("<script>var th = document.querySelectorAll('#summary th')[0], out = [];"
             "th.click(); out.push(document.querySelector('#summary tbody tr td').textContent);"
             "th.click(); out.push(document.querySelector('#summary tbody tr td').textContent);"
             "document.body.setAttribute('data-probe', out.join('|'));</script></body>")
    page = tmp_path / "sorted.html"
    page.write_text(render(sample_report, "html").replace("</body>", probe), encoding="utf-8")
    dom = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path).stdout
    assert 'data-sortable="ready"' in dom  # the page's own script ran
    assert 'data-probe="good|short"' in dom  # ascending by name, then descending
