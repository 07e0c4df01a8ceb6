"""The report's figures: matplotlib (Agg, no pyplot) rendered to base64 PNG ``data:`` URIs.

Each function takes plain numbers (already read from the night summary, events.tsv or the history)
and returns a :class:`Plot`, or None when there is nothing to draw. Figures never touch a display,
so they work on a server without one.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: Colour of each event kind (timeline), colour-blind-friendly (Okabe-Ito).
KIND_COLOURS = {
    "fasciculation": "#D55E00",
    "myoclonus": "#CC79A7",
    "plm": "#0072B2",
    "cramp": "#E69F00",
    "voluntary": "#009E73",
    "artifact": "#999999",
}
LEVEL_COLOURS = {"not-evaluable": "#5A5A5A", "benign": "#009E73", "monitor": "#E69F00",
                 "see-doctor": "#D55E00"}
#: Channel colours, the same channel in the same colour in every figure (Okabe-Ito first, then
#: tab20's distinct shades for nights with many channels).
CHANNEL_PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
                   "#F0E442", "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF", "#9467BD", "#FF9896",
                   "#98DF8A", "#C49C94", "#AEC7E8", "#FFBB78", "#C5B0D5", "#DBDB8D")


def channel_colours(names: Sequence[str]) -> dict[str, str]:
    """One colour per channel name, in the given order (cycling past 20 channels)."""
    return {name: CHANNEL_PALETTE[i % len(CHANNEL_PALETTE)] for i, name in enumerate(names)}
_DPI = 100
#: Units drawn in the waveform gallery (the most frequent ones); the table lists every unit.
MAX_UNITS_SHOWN = 16


@dataclass(frozen=True)
class Plot:
    """One embedded figure: an id for the page, a caption, the PNG as a data URI and alt text."""

    id: str
    title: str
    data_uri: str
    alt: str


def _figure(width_in: float = 9.0, height_in: float = 3.0) -> Figure:
    fig = Figure(figsize=(width_in, height_in), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _encode(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def hourly_plot(labels: Sequence[str], counts_by_channel: Mapping[str, Sequence[float]],
                rates_by_channel: Mapping[str, Sequence[float | None]] | None = None,
                colours: Mapping[str, str] | None = None,
                xlabel: str = "hour (start)") -> Plot | None:
    """Fasciculations per clock hour (bars) per channel, and the rate per minute of rest.

    Parameters
    ----------
    labels : sequence of str
        Label of each hour (e.g. ``23:00``).
    counts_by_channel : mapping
        Channel -> fasciculations in each hour.
    rates_by_channel : mapping, optional
        Channel -> fasciculations per minute of rest in each hour (None where there was no rest),
        drawn as points on a second axis.
    colours : mapping, optional
        Channel -> colour (:func:`channel_colours` of the channels when omitted): a channel's bars
        and rate line share it.
    xlabel : str
        What the labels are (``hour (start, local time)``).
    """
    colours = colours or channel_colours(list(counts_by_channel))
    rated = any(r is not None for v in (rates_by_channel or {}).values() for r in v)
    if not len(labels) or not counts_by_channel or (
            not rated and not any(sum(c) for c in counts_by_channel.values())):
        return None  # no rest and no fasciculation in any hour: nothing to draw
    fig = _figure(9.0, 3.2)
    ax = fig.add_subplot()
    n = len(counts_by_channel)
    width = 0.8 / n
    x = np.arange(len(labels), dtype=float)
    for i, (name, counts) in enumerate(counts_by_channel.items()):
        ax.bar(x - 0.4 + (i + 0.5) * width, counts, width, label=name, alpha=0.55,
               color=colours.get(name, "#333333"))
    ax.set_xticks(x, list(labels), fontsize=8)
    ax.set_xlabel(xlabel)
    if rates_by_channel:
        ax2 = ax.twinx()
        for i, (name, rates) in enumerate(rates_by_channel.items()):  # over the channel's bars
            y = np.array([np.nan if r is None else r for r in rates], float)
            ax2.plot(x - 0.4 + (i + 0.5) * width, y, "o-", ms=4, lw=1.2,
                     color=colours.get(name, "#333333"))
        ax2.set_ylabel("per minute of rest (points)")
        top = np.nanmax([r for v in rates_by_channel.values() for r in v if r is not None] + [0.0])
        ax2.set_ylim(0, 1.3 * top if top > 0 else 1.0)  # room for the legend above the data
    peak = max((max(c) for c in counts_by_channel.values() if len(c)), default=0)
    ax.set_ylim(0, 1.3 * peak if peak > 0 else 1.0)
    ax.set_ylabel("fasciculations per hour (bars)")
    ax.legend(loc="upper left", fontsize=8, ncols=min(6, n), title="channel", title_fontsize=8)
    return Plot("plot-hourly", "Fasciculations per hour of the night", _encode(fig),
                "bar chart of fasciculations per clock hour of the night")


def history_plot(dates: Sequence[str], rates: Sequence[float | None], twitching_rate: float,
                 sides: Sequence[str] | None = None, latest: str | None = None) -> Plot | None:
    """Nightly rate over the history, with the twitching-night threshold.

    Parameters
    ----------
    dates : sequence of str
        ISO night dates.
    rates : sequence of float or None
        Fasciculations per minute of rest per night.
    twitching_rate : float
        The threshold of a twitching night (horizontal line).
    sides : sequence of str, optional
        Side of each night (one line per side).
    latest : str, optional
        Night date of the report's night (marked).
    """
    if not len(dates):
        return None
    from datetime import date, timedelta

    from matplotlib import dates as mdates

    days = [date.fromisoformat(d) for d in dates]
    y = np.array([np.nan if r is None else r for r in rates], float)
    sides = list(sides) if sides is not None else ["all"] * len(dates)
    fig = _figure(9.0, 3.2)
    ax = fig.add_subplot()
    for side in sorted(set(sides)):
        mask = [s == side for s in sides]
        ax.plot([d for d, m in zip(days, mask, strict=True) if m], y[np.array(mask)], "o-", ms=5,
                label=side)
    ax.axhline(twitching_rate, color="#555555", ls="--", lw=1,
               label=f"twitching night (>= {twitching_rate:g}/min)")
    if latest is not None:
        ax.axvline(date.fromisoformat(latest), color="#D55E00", lw=1, alpha=0.5,
                   label="this night")
    first, last = min(days), max(days)
    span = max((last - first).days, 6)  # at least a week shown, whole days
    ax.set_xlim(first - timedelta(days=1), first + timedelta(days=span + 1))
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("night (date the evening began)")
    ax.set_ylabel("fasciculations / min of rest")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8)
    return Plot("plot-history", "Nightly rate over the history", _encode(fig),
                "nightly fasciculation rate per minute of rest over the recorded nights")


def distributions_plot(histograms: Sequence[tuple[str, Mapping | None]]) -> Plot | None:
    """Histograms of the night's fasciculations, one panel each, with the median marked.

    Parameters
    ----------
    histograms : sequence of (label, mapping or None)
        Axis label and a histogram with ``bin_edges``, ``counts`` and optionally
        ``quantiles["p50"]`` (as in the summary's morphology); None or empty draws an empty panel.
    """
    usable = [h for _, h in histograms if h and sum(h.get("counts") or ()) > 0]
    if not usable:
        return None
    fig = _figure(9.0, 2.8)
    axes = np.atleast_1d(fig.subplots(1, len(histograms)))
    colours = ("#0072B2", "#009E73", "#CC79A7", "#E69F00")
    for i, (ax, (label, hist)) in enumerate(zip(axes, histograms, strict=True)):
        ax.set_xlabel(label)
        ax.set_ylabel("fasciculations")
        if not hist or not hist.get("counts"):
            continue
        edges = np.asarray(hist["bin_edges"], float)
        heights = np.asarray(hist["counts"], float)
        ax.stairs(heights, edges, fill=True, color=colours[i % len(colours)])
        used = np.flatnonzero(heights)
        if used.size:  # the summary's bins span every plausible value: zoom on the occupied ones
            ax.set_xlim(edges[max(used[0] - 1, 0)], edges[min(used[-1] + 2, edges.size - 1)])
        median = (hist.get("quantiles") or {}).get("p50")
        if median is not None:
            ax.axvline(float(median), color="#D55E00", lw=1, label=f"median {float(median):.3g}")
            ax.legend(fontsize=8)
    return Plot("plot-distributions", "Amplitude, duration and phases of the fasciculations",
                _encode(fig), "histograms of fasciculation amplitude, duration and phases")


def waveform_plot(units: Sequence[Mapping], sfreq_hz: float | None,
                  colours: Mapping[str, str] | None = None) -> Plot | None:
    """A gallery of unit templates: one small panel per unit, the template and its spread.

    Parameters
    ----------
    units : sequence of mapping
        Each with ``template_uv`` (list of float, centred on the peak), and optionally ``unit``
        (label), ``channel``, ``count``, ``stability``, ``template_sfreq_hz`` and ``spread_uv``
        (list, one standard deviation per sample).
    sfreq_hz : float or None
        Sampling rate of templates that do not state theirs (x axis in ms); sample index when None.
    colours : mapping, optional
        Channel -> colour of its units' panels.
    """
    colours = colours or {}
    units = [u for u in units if len(u.get("template_uv") or ())]
    n_units = len(units)
    if not units:
        return None
    shown = sorted(units, key=lambda u: -(u.get("count") or 0))[:MAX_UNITS_SHOWN]
    units = [u for u in units if any(u is v for v in shown)]  # largest units, in their order
    n_cols = min(4, len(units))
    n_rows = -(-len(units) // n_cols)
    fig = _figure(9.0, 2.3 * n_rows)
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
    for ax, unit in zip(axes, units, strict=False):
        y = np.asarray(unit["template_uv"], float)
        fs = unit.get("template_sfreq_hz") or sfreq_hz
        t = np.arange(y.size) - y.size // 2
        t = t / fs * 1e3 if fs else t
        colour = colours.get(unit.get("channel"), "#0072B2")
        spread = unit.get("spread_uv")
        if spread is not None and len(spread) == y.size:
            s = np.asarray(spread, float)
            ax.fill_between(t, y - s, y + s, color=colour, alpha=0.2, lw=0)
        ax.plot(t, y, color=colour, lw=1.2)
        label = f"unit {unit.get('unit', '?')}"
        if unit.get("count") is not None:
            label += f", n={unit['count']}"
        if unit.get("stability") is not None:
            label += f", r={unit['stability']:.2f}"
        title = label if unit.get("channel") is None else f"{unit['channel']}\n{label}"
        ax.set_title(title, fontsize=8, color=colour)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("ms" if fs else "samples", fontsize=8)
    for ax in axes[len(units):]:
        ax.set_axis_off()
    axes[0].set_ylabel("µV", fontsize=8)
    title = "Fasciculation waveforms per unit (median template of each unit)"
    if n_units > len(units):
        title += f": the {len(units)} most frequent of {n_units} units"
    return Plot("plot-waveforms", title, _encode(fig),
                "gallery of average fasciculation waveforms, one panel per unit")


def timeline_plot(events: Sequence[Mapping], duration_s: float, kinds: Sequence[str],
                  gaps_s: Sequence[tuple[float, float]] = (),
                  counts: Mapping[str, int] | None = None) -> Plot | None:
    """The whole night, one row per event kind, each event a mark at its onset and duration.

    Parameters
    ----------
    events : sequence of mapping
        Each with ``onset`` (s), ``duration`` (s) and ``kind``.
    duration_s : float
        Length of the night.
    kinds : sequence of str
        Rows, top to bottom.
    gaps_s : sequence of (start_s, stop_s)
        Lost spans, shaded.
    counts : mapping, optional
        Kind -> count shown beside the row label (the summary's counts, which leave out the
        second potential of doublets); the number of marks when omitted.
    """
    if duration_s <= 0:
        return None
    fig = _figure(9.0, 0.45 * len(kinds) + 1.2)
    ax = fig.add_subplot()
    for row, kind in enumerate(kinds):
        spans = [(e["onset"] / 3600.0, max(e["duration"] or 0.0, 0.0) / 3600.0)
                 for e in events if e["kind"] == kind and e["onset"] is not None]
        if spans:
            starts = np.array([s for s, _ in spans])
            widths = np.maximum([w for _, w in spans], duration_s / 3600.0 / 2000.0)
            ax.broken_barh(list(zip(starts, widths, strict=True)), (row - 0.35, 0.7),
                           color=KIND_COLOURS.get(kind, "#333333"))
    for start, stop in gaps_s:
        ax.axvspan(start / 3600.0, stop / 3600.0, color="#000000", alpha=0.12, lw=0)
    counts = counts if counts is not None else {
        k: sum(e["kind"] == k for e in events) for k in kinds}
    ax.set_yticks(range(len(kinds)), [f"{k} ({counts.get(k, 0)})" for k in kinds])
    ax.set_ylim(len(kinds) - 0.5, -0.5)
    ax.set_xlim(0, duration_s / 3600.0)
    ax.set_xlabel("hours from recording start (grey: no data)")
    ax.grid(axis="x", alpha=0.3)
    return Plot("plot-timeline", "Events over the whole night, by kind", _encode(fig),
                "timeline of every event over the night, one row per kind")


def examples_plot(traces: Sequence, colours: Mapping[str, str] | None = None) -> Plot | None:
    """One panel per event kind: a stretch of the recording with the event shaded, band-passed
    or, for an artifact, as recorded (``Trace.band_passed``).

    Parameters
    ----------
    traces : sequence of :class:`calfwatch.report.examples.Trace`
    colours : mapping, optional
        Channel -> colour of the trace.
    """
    traces = [t for t in traces if len(t.samples_uv)]
    if not traces:
        return None
    colours = colours or {}
    n_cols = 2 if len(traces) > 1 else 1
    n_rows = -(-len(traces) // n_cols)
    fig = _figure(9.0, 1.9 * n_rows)
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
    for ax, tr in zip(axes, traces, strict=False):
        t = tr.start_s + np.arange(len(tr.samples_uv)) / tr.sfreq_hz
        end = min(tr.onset_s + max(tr.duration_s, 1.0 / tr.sfreq_hz), t[-1])
        ax.axvspan(tr.onset_s, end, color=KIND_COLOURS.get(tr.kind, "#333333"), alpha=0.25, lw=0)
        ax.plot(t, tr.samples_uv, color=colours.get(tr.channel, "#0072B2"), lw=0.7)
        length = (f"{tr.duration_s * 1e3:.0f} ms" if tr.duration_s < 1.0
                  else f"{tr.duration_s:.1f} s")
        shown = "" if tr.band_passed else "; as recorded"
        ax.set_title(f"{tr.kind} on {tr.channel} at {tr.onset_s:.2f} s ({length}, shaded"
                     f"{shown})", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("s from recording start", fontsize=7)
        ax.set_ylabel("µV", fontsize=7)
    for ax in axes[len(traces):]:
        ax.set_axis_off()
    return Plot("plot-examples", "One example of each event kind on the recording (band-passed "
                "20-450 Hz, artifacts as recorded less their offset; the event shaded)",
                _encode(fig), "example traces of one event of each kind, the event shaded")
