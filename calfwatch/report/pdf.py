"""The report as PDF: the same HTML page printed by headless Chromium (same content, no new layout).

calfwatch does not depend on a browser: without Chromium, :func:`print_to_pdf` raises
:class:`PdfError` with a one-line message saying what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from acquisition.safe_files import write_atomic

#: Environment variable naming the browser binary to use.
BROWSER_ENV = "CALFWATCH_CHROMIUM"
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-extensions", "--no-pdf-header-footer")
TIMEOUT_S = 180


class PdfError(OSError):
    """The PDF could not be made (message: '<file>: <problem>')."""


def find_browser() -> str | None:
    """``$CALFWATCH_CHROMIUM``, else the first Chromium or Chrome on the PATH, else None."""
    named = os.environ.get(BROWSER_ENV)
    if named:
        return shutil.which(named)
    return next((p for p in map(shutil.which, _NAMES) if p), None)


def print_to_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike) -> Path:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium; return the PDF's path.

    Raises
    ------
    PdfError
        No browser found, the browser failed, or it wrote no PDF.
    """
    html_path, pdf_path = Path(html_path), Path(pdf_path)
    browser = find_browser()
    if browser is None:
        raise PdfError(f"{pdf_path}: no Chromium found for --pdf (install chromium, or set "
                       f"${BROWSER_ENV}); the HTML report {html_path} was written")
    with tempfile.TemporaryDirectory(prefix="calfwatch-pdf-") as private:
        # the browser writes into a folder only we can enter; the PDF then replaces the target
        # atomically (never through a link planted at a predictable name beside it)
        tmp_pdf = Path(private) / "report.pdf"
        profile = Path(private) / "profile"
        cmd = [browser, *_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp_pdf}",
               html_path.resolve().as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S,
                                  check=False, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfError(f"{pdf_path}: {browser} could not print the report ({exc})") from None
        if not tmp_pdf.is_file() or tmp_pdf.stat().st_size == 0:
            raise PdfError(f"{pdf_path}: {browser} wrote no PDF (exit code {done.returncode})")
        write_atomic(pdf_path, tmp_pdf.read_bytes())
    return pdf_path
