"""Reports for the clinician: one self-contained HTML page per night, optionally printed to PDF."""

from __future__ import annotations

from calfwatch.report.html import render_report, write_report
from calfwatch.report.model import ReportError, ReportInput, build_context, load_night

__all__ = ["ReportError", "ReportInput", "build_context", "load_night", "render_report",
           "write_report"]
