"""The clinician's report as one self-contained HTML file (inline CSS, figures as data URIs).

The page is rendered with jinja2 with autoescaping on, so every text that comes from a recording
(subject, device fields, annotations) is shown as text, never interpreted as markup.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from calfwatch.report.model import ReportInput, build_context

if TYPE_CHECKING:
    from classifier.config import ClassifierConfig

TEMPLATE = "report.html.j2"


def _observed(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def environment() -> jinja2.Environment:
    """The jinja2 environment: packaged templates, autoescape on, undefined names are errors."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("calfwatch.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["obs"] = _observed
    return env


def render_report(inp: ReportInput, config: ClassifierConfig | None = None,
                  context: Mapping[str, Any] | None = None) -> str:
    """The report page as HTML text.

    Parameters
    ----------
    inp : ReportInput
        The night summary, its events and the subject's history.
    config : ClassifierConfig, optional
        Configuration (:func:`classifier.config.load_config` when omitted).
    context : mapping, optional
        A context already made by :func:`~calfwatch.report.model.build_context` for ``inp``.
    """
    context = context if context is not None else build_context(inp, config)
    return environment().get_template(TEMPLATE).render(**context)


def write_report(inp: ReportInput, out_path: str | os.PathLike,
                 config: ClassifierConfig | None = None,
                 context: Mapping[str, Any] | None = None) -> Path:
    """Render the report and write it atomically to ``out_path``; return the path."""
    from calfwatch.outputs import write_atomic

    out_path = Path(out_path)
    if not out_path.parent.is_dir():
        raise OSError(f"{out_path}: folder {out_path.parent} does not exist")
    return write_atomic(out_path, render_report(inp, config, context))
