"""Figures and the notebook view of a :class:`calfwatch.night.Night`.

Figures are made with ``matplotlib.pyplot`` so a notebook shows them; ``show=False`` only returns
them (scripts, tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from classifier.kinds import EVENT_KINDS

#: Colour of each event kind (as in the HTML report), colour-blind-friendly (Okabe-Ito).
KIND_COLOURS = {
    "fasciculation": "#D55E00", "myoclonus": "#CC79A7", "plm": "#0072B2",
    "cramp": "#E69F00", "voluntary": "#009E73", "artifact": "#999999",
}


def _show(fig, show: bool):
    if show:
        import matplotlib.pyplot as plt

        plt.show()
    return fig


def plot_events(night, show: bool = True):
    """One row per event kind over the night (hours from the start, minutes under 2 h), lost
    spans in grey."""
    import matplotlib.pyplot as plt

    ev = night.events
    kinds = list(EVENT_KINDS)
    fig, ax = plt.subplots(figsize=(9.0, 0.45 * len(kinds) + 1.2), layout="constrained")
    unit_s, unit = (3600.0, "hours") if night.duration_s >= 7200.0 else (60.0, "minutes")
    span = max(night.duration_s, 1e-9) / unit_s
    for row, kind in enumerate(kinds):
        mine = ev[ev["kind"] == kind]
        if len(mine):
            widths = np.maximum(mine["duration_s"] / unit_s, span / 2000.0)
            ax.broken_barh(list(zip(mine["onset_s"] / unit_s, widths, strict=True)),
                           (row - 0.35, 0.7), color=KIND_COLOURS.get(kind, "#333333"))
    for start_s, length_s in night.summary.get("recording", {}).get("gaps_s") or []:
        ax.axvspan(start_s / unit_s, (start_s + length_s) / unit_s, color="k", alpha=0.12, lw=0)
    counts = night.summary.get("counts") or {}
    ax.set_yticks(range(len(kinds)), [f"{k} ({counts.get(k, 0)})" for k in kinds])
    ax.set_ylim(len(kinds) - 0.5, -0.5)
    ax.set_xlim(0, span)
    ax.set_xlabel(f"{unit} from the recording start (grey: no data)")
    ax.set_title("Events over the night")
    ax.grid(axis="x", alpha=0.3)
    return _show(fig, show)


def hourly_rates(blocks: list[dict[str, Any]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Labels, rates and (2, n) error bar lengths of the per-hour summary blocks (NaN: no rest)."""
    from classifier.rates import poisson_rate_interval

    labels, rates, err = [], [], []
    for h in blocks:
        labels.append(str(h["hour"])[11:16] or str(h["hour"]))
        rate = h.get("fasciculations_per_min_rest")
        low, high = poisson_rate_interval(int(h["fasciculations"]), float(h["rest_minutes"]))
        if rate is None or low is None:
            rates.append(np.nan)
            err.append((0.0, 0.0))
        else:
            rates.append(rate)
            err.append((rate - low, high - rate))
    return labels, np.array(rates, float), np.array(err, float).reshape(-1, 2).T


def plot_rates(night, show: bool = True):
    """Fasciculations per minute of rest per clock hour and channel, with 95 % intervals, and
    the whole night's rate and interval as a line and band."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9.0, 3.2), layout="constrained")
    channels = night.summary.get("channels") or {}
    width = 0.8 / max(1, len(channels))
    labels: list[str] = []
    for i, (name, block) in enumerate(channels.items()):
        labels, rates, err = hourly_rates(block.get("hours") or [])
        x = np.arange(len(labels)) + (i - (len(channels) - 1) / 2) * width
        ax.bar(x, np.nan_to_num(rates), width, label=name, alpha=0.8)
        ax.errorbar(x, rates, yerr=err, fmt="none", ecolor="k", capsize=3, lw=1)
    pooled = night.rates["pooled"]
    if pooled["per_min_rest"] is not None:
        ax.axhline(pooled["per_min_rest"], color="k", ls="--", lw=1,
                   label=f"night {pooled['per_min_rest']:.2f}/min")
        ax.axhspan(pooled["low"], pooled["high"], color="k", alpha=0.08, lw=0,
                   label=f"95 % {pooled['low']:.2f}-{pooled['high']:.2f}")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlabel("clock hour (UTC)")
    ax.set_ylabel("fasciculations / min of rest")
    ax.set_title("Fasciculation rate at rest, 95 % exact Poisson intervals")
    ax.legend(fontsize="small", loc="upper right")
    return _show(fig, show)


def html_summary(night, escape: Callable[[str], str]) -> str:
    """A compact table: recording, counts, rates with intervals, assessment level and reasons."""
    rec = night.summary.get("recording", {})
    start = str(rec.get("start_utc", ""))[:16].replace("T", " ")
    rows = [("Recording", f"{start} UTC, {night.duration_s / 60:.1f} min, "
                          f"{night.sfreq_hz:g} Hz"),
            ("Channels", ", ".join(night.ch_names))]
    for name, r in night.rates.items():
        if r["per_min_rest"] is None:
            rate = "n/a (no rest)"
        else:
            rate = f"{r['per_min_rest']:.2f}/min (95 % {r['low']:.2f}-{r['high']:.2f})"
        rows.append((f"Fasciculations ({name})",
                     f"{r['fasciculations']} in {r['rest_minutes']:.1f} min of rest: {rate}"))
    counts = night.summary.get("counts") or {}
    rows.append(("Events", ", ".join(f"{k} {v}" for k, v in counts.items())))
    a = night.assessment
    reasons = "; ".join(str(r.get("rule", r)) for r in a.get("reasons") or []) or "none"
    rows.append(("Assessment", f"<b>{escape(str(a.get('level', 'n/a')))}</b> "
                               f"(reasons: {escape(reasons)})"))
    body = "".join(
        f"<tr><th style='text-align:left'>{escape(k)}</th><td style='text-align:left'>"
        f"{v if k == 'Assessment' else escape(v)}</td></tr>" for k, v in rows)
    return (f"<table><caption>calfwatch Night</caption>{body}</table>"
            "<p><small>calfwatch measures; it does not diagnose.</small></p>")
