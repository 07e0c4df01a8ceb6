"""The report on a phone (a 400 px wide viewport) in headless Chromium: the page itself never scrolls
sideways (wide tables and figures scroll inside their own boxes), every link of the nav bar is on
screen and the figures keep their natural size, so their axis text stays legible. Skips where no
Chromium is installed.

Headless Chromium will not make its window narrower than 500 px, so the report is shown in a
400 px ``<iframe srcdoc>`` of a host page: the frame is a true 400 px viewport and, being of the
host's origin, the host's script can measure it once everything has loaded.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from report_browser import find_chromium, open_in_browser
from report_nights import report_after_four_nights

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")
PHONE_PX = 400

#: On load, the host writes what it measured in the frame onto its <body> as data-phone (JSON).
MEASURE = """<script>
window.addEventListener('load', function () {
  var doc = document.getElementById('phone').contentDocument, root = doc.documentElement;
  var room = root.clientWidth, out = [], nav = [], figs = [];
  function boxed(el) { return el.closest('.scroll, .figbox') !== null; }
  var all = doc.body.getElementsByTagName('*');
  for (var i = 0; i < all.length; i++) {
    var el = all[i];
    var up = el.parentElement, upOut = up && up.getBoundingClientRect().right > room + 1;
    if (el.getBoundingClientRect().right > room + 1 && !upOut && !boxed(up || el)) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''));
    }
  }
  var links = doc.querySelectorAll('nav a');
  for (var j = 0; j < links.length; j++) {
    var r = links[j].getBoundingClientRect();
    if (r.left < 0 || r.right > room + 1) nav.push(links[j].textContent);
  }
  var imgs = doc.querySelectorAll('figure img');
  for (var k = 0; k < imgs.length; k++) {
    figs.push([imgs[k].closest('figure').id, imgs[k].naturalWidth,
               Math.round(imgs[k].getBoundingClientRect().width)]);
  }
  document.body.setAttribute('data-phone', JSON.stringify({
    scrollWidth: root.scrollWidth, clientWidth: room, outside: out.slice(0, 20),
    navOff: nav, navLinks: links.length, figures: figs}));
});
</script>"""


def _host_page(report_html: str, width: int) -> str:
    frame = (f'<iframe id="phone" style="border:0;display:block;width:{width}px;height:3000px" '
             f'srcdoc="{html.escape(report_html, quote=True)}"></iframe>')
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'>{MEASURE}</head>"
            f"<body style='margin:0'>{frame}</body></html>")


@pytest.fixture(scope="module")
def phone(tmp_path_factory):
    """A two-channel night with four stored nights before it, reported and shown 400 px wide."""
    root = tmp_path_factory.mktemp("phone")
    report = report_after_four_nights(root, "p1")
    host = root / "phone.html"
    host.write_text(_host_page(report.read_text(encoding="utf-8"), PHONE_PX), encoding="utf-8")
    result = open_in_browser(host, root, CHROMIUM, height=3000)
    match = re.search(r'<body[^>]*\sdata-phone="([^"]*)"', result.dom)
    assert match, "data-phone not set on the host's <body>: the measuring script did not run"
    return json.loads(html.unescape(match.group(1))), result


def test_the_frame_is_a_phone_wide_viewport(phone):
    measured, result = phone
    assert PHONE_PX - 20 <= measured["clientWidth"] <= PHONE_PX
    assert result.console == []


def test_the_page_does_not_scroll_sideways(phone):
    measured, _ = phone
    assert measured["scrollWidth"] <= measured["clientWidth"], measured["outside"]
    assert measured["outside"] == []


def test_every_nav_link_is_on_screen(phone):
    measured, _ = phone
    assert measured["navLinks"] >= 10
    assert measured["navOff"] == []


def test_figures_keep_their_natural_width(phone):
    measured, _ = phone
    figures = measured["figures"]
    assert len(figures) >= 5
    for fig_id, natural, shown in figures:
        assert natural > 0 and shown >= natural, (fig_id, natural, shown)
