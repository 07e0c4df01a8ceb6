"""The report in headless Chromium: every section and figure rendered, no console errors, and a
subject field holding markup shown as text. Skips where no Chromium is installed."""

from __future__ import annotations

import re

import pytest
from report_browser import PROBE_ID, find_chromium, open_in_browser
from report_nights import FIGURES, SECTIONS, parse_report, report_after_four_nights

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def shown(tmp_path_factory):
    """A night analysed for subject EVIL after four stored nights, reported, shown in Chromium."""
    root = tmp_path_factory.mktemp("browser")
    report = report_after_four_nights(root, EVIL)
    return report, open_in_browser(report, root, CHROMIUM)


def _body_attr(dom: str, name: str) -> str:
    match = re.search(rf'<body[^>]*\s{name}="([^"]*)"', dom)
    assert match, f"{name} not set on <body>: the probe did not run"
    return match.group(1)


def test_every_section_and_figure_is_rendered(shown):
    _, result = shown
    page = parse_report(result.dom)
    assert set(SECTIONS) <= page.ids
    assert set(FIGURES) <= set(page.figures)
    total = int(_body_attr(result.dom, "data-images-total"))
    assert total == len(FIGURES)
    assert int(_body_attr(result.dom, "data-images-ok")) == total


def test_no_console_messages(shown):
    _, result = shown
    assert result.console == []


def test_markup_in_the_subject_is_shown_as_text(shown):
    report, result = shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in result.dom
    scripts = re.findall(r"<script\b[^>]*>", result.dom)
    assert scripts == [f'<script id="{PROBE_ID}">']  # only the test's own probe
    assert not re.search(r'<html[^>]*data-alerted', result.dom)
    assert EVIL not in report.read_text(encoding="utf-8")


def test_screenshot_is_a_full_page(shown):
    _, result = shown
    data = result.screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 100_000  # text and figures, not a blank page


def test_probe_sees_broken_images_console_errors_and_alerts(tmp_path):
    """The checks above can fail: a page with each fault is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head></head><body><img src="data:image/png;base64,AAAA">'
                   '<script>console.error("boom"); alert(1);</script></body></html>',
                   encoding="utf-8")
    result = open_in_browser(bad, tmp_path, CHROMIUM, height=600)
    assert _body_attr(result.dom, "data-images-total") == "1"
    assert _body_attr(result.dom, "data-images-ok") == "0"
    assert any("boom" in m for m in result.console)
    assert 'data-alerted="1"' in result.dom


def test_pdf_of_the_same_report(shown, tmp_path):
    report, _ = shown
    from calfwatch.report.pdf import print_to_pdf

    pdf = print_to_pdf(report, tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-" and len(data) > 50_000
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 3
