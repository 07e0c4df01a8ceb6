"""Drive headless Chromium over a report: rendered DOM, console messages, screenshot.

The report carries no script of its own. A copy of the page gets a small probe script at the top
of ``<head>`` that (1) replaces ``window.alert`` with a marker, so an injected alert shows as
``data-alerted`` on ``<html>``, and (2) on ``load`` writes how many ``<img>`` decoded
(``naturalWidth > 0``) onto ``<body>`` as ``data-images-ok`` / ``data-images-total``, and the
tables wider than the column they sit in (id, else index) as ``data-tables-too-wide``. Chromium's
``--dump-dom`` prints the DOM after load; ``--enable-logging=stderr`` prints every console message
as ``CONSOLE`` lines, which the report must not produce at all.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PROBE_ID = "calfwatch-test-probe"
PROBE = f"""<script id="{PROBE_ID}">
window.alert = function () {{ document.documentElement.setAttribute('data-alerted', '1'); }};
window.addEventListener('load', function () {{
  var ok = 0, imgs = document.images;
  for (var i = 0; i < imgs.length; i++) {{
    if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;
  }}
  document.body.setAttribute('data-images-ok', String(ok));
  document.body.setAttribute('data-images-total', String(imgs.length));
  var wide = [], tables = document.getElementsByTagName('table');
  for (var t = 0; t < tables.length; t++) {{
    var box = tables[t].getBoundingClientRect(), room = tables[t].parentElement.getBoundingClientRect();
    if (box.right > room.right + 1) wide.push(tables[t].id || String(t));
  }}
  document.body.setAttribute('data-tables-too-wide', wide.join(' '));
}});
</script>"""

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--mute-audio")
_CONSOLE = re.compile(r":CONSOLE(?:\(\d+\)|:\d+)\]\s*(.*)")
TIMEOUT_S = 120


def find_chromium() -> str | None:
    """Path of a Chromium binary (``$CHROMIUM``, ``chromium``, ``chromium-browser``), or None."""
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "/usr/bin/chromium"):
        if name and (path := shutil.which(name)):
            return path
    return None


@dataclass
class BrowserResult:
    """What the browser showed: the DOM after load, console messages and the screenshot."""

    dom: str
    console: list[str]
    screenshot: Path


def _run(chromium: str, args: list[str], user_dir: str) -> subprocess.CompletedProcess:
    cmd = [chromium, *FLAGS, f"--user-data-dir={user_dir}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
                          stdin=subprocess.DEVNULL)


def with_probe(html: str) -> str:
    """The page with the probe script inserted right after ``<head>``."""
    head = re.search(r"<head[^>]*>", html, flags=re.IGNORECASE)
    at = head.end() if head else 0
    return html[:at] + PROBE + html[at:]


def open_in_browser(html_path: Path, work_dir: Path, chromium: str,
                    width: int = 1280, height: int = 4000) -> BrowserResult:
    """Load ``html_path`` (with the probe) and return its DOM, console lines and a screenshot."""
    probed = work_dir / f"probed-{html_path.name}"
    probed.write_text(with_probe(html_path.read_text(encoding="utf-8")), encoding="utf-8")
    url = probed.resolve().as_uri()
    shot = work_dir / f"{html_path.stem}.png"
    with tempfile.TemporaryDirectory(dir=work_dir) as user_dir:
        dumped = _run(chromium, ["--enable-logging=stderr", "--v=0", f"--window-size={width},{height}",
                                 "--dump-dom", url], user_dir)
    with tempfile.TemporaryDirectory(dir=work_dir) as user_dir:
        _run(chromium, [f"--screenshot={shot}", f"--window-size={width},{height}",
                        "--hide-scrollbars", url], user_dir)
    console = [m.group(1) for line in dumped.stderr.splitlines()
               if (m := _CONSOLE.search(line))]
    return BrowserResult(dumped.stdout, console, shot)

