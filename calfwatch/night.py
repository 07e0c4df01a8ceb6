"""The results of one analysed night, as a notebook user handles them.

:class:`Night` wraps what the engine found (:class:`calfwatch.engine.NightResult`): the events as
a structured array (and a pandas DataFrame), the summary.json document, the assessment, the rates
with their 95 % intervals, MNE annotations, the three output files, two figures and a compact HTML
view for notebooks.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import numpy as np

#: Confidence level of the rate intervals.
RATE_CONFIDENCE = 0.95
_EVENT_FIELDS = (("onset_s", "f8"), ("duration_s", "f8"), ("kind", "U"), ("channel", "U"),
                 ("peak_to_peak_uv", "f8"), ("phases", "i4"), ("sample", "i8"), ("detail", "U"))


def events_array(rows: list[dict[str, Any]]) -> np.ndarray:
    """Event rows (as written to events.tsv) as a structured array, fields of
    :data:`_EVENT_FIELDS` (``phases`` -1 for none)."""
    dtype = []
    for name, kind in _EVENT_FIELDS:
        if kind == "U":
            width = max([len(str(r.get(name) or "")) for r in rows] + [1])
            kind = f"U{width}"
        dtype.append((name, kind))
    out = np.zeros(len(rows), dtype=dtype)
    for name, _ in _EVENT_FIELDS:
        values = [r.get(name) for r in rows]
        if name == "phases":
            values = [-1 if v is None else v for v in values]
        elif name == "detail":
            values = [v or "" for v in values]
        elif name == "peak_to_peak_uv":
            values = [np.nan if v is None else v for v in values]
        out[name] = values
    return out


def rate_entry(block: dict[str, Any]) -> dict[str, Any]:
    """Fasciculations per minute of rest of one summary block (pooled or a channel) with the
    interval: the summary's own when it has one, else the exact Poisson interval over live rest
    (rest less ``blind_minutes``, see :mod:`classifier.rates`)."""
    from classifier.rates import poisson_rate_interval

    count, minutes = int(block.get("fasciculations") or 0), float(block.get("rest_minutes") or 0)
    blind = float(block.get("blind_minutes") or 0)
    low, high = _summary_interval(block)
    if low is None and high is None:
        low, high = poisson_rate_interval(count, minutes - blind, RATE_CONFIDENCE)
    return {"fasciculations": count, "rest_minutes": minutes, "blind_minutes": blind,
            "per_min_rest": block.get("fasciculations_per_min_rest"),
            "low": low, "high": high, "confidence": RATE_CONFIDENCE}


def _summary_interval(block: dict[str, Any]) -> tuple[float | None, float | None]:
    for key, value in block.items():
        if not key.startswith("fasciculations_per_min_rest_"):
            continue
        if isinstance(value, dict) and {"low", "high"} <= set(value):
            return value["low"], value["high"]
        if isinstance(value, list | tuple) and len(value) == 2:
            return value[0], value[1]
    return None, None


class Night:
    """One analysed night: events, summary, assessment, rates.

    Made by :func:`calfwatch.analyze`; the same numbers as the files ``calfwatch analyze``
    writes (:meth:`save` writes them).

    Attributes
    ----------
    events : numpy.ndarray
        Structured array, one row per event sorted by onset: ``onset_s``, ``duration_s``,
        ``kind``, ``channel``, ``peak_to_peak_uv``, ``phases`` (-1: not a potential), ``sample``,
        ``detail``.
    summary : dict
        The summary.json document.
    ch_names : list of str
        The channels analysed.
    sfreq_hz : float
        Sampling rate.
    meas_date : datetime.datetime or None
        Time of the first sample (UTC); None when the recording states no date.

    Examples
    --------
    >>> night = calfwatch.analyze("night.edf")  # doctest: +SKIP
    >>> night.rates["pooled"]  # doctest: +SKIP
    {'fasciculations': 4, 'rest_minutes': 1.84, 'blind_minutes': 0.0, 'per_min_rest': 2.17, 'low': 0.59, ...}
    """

    def __init__(self, result) -> None:
        self._result = result
        self._rows = list(result.events)
        self.events = events_array(self._rows)
        self.summary: dict[str, Any] = result.summary
        self.sfreq_hz = float(result.info.sfreq_hz)
        self.meas_date = result.info.meas_date
        self._info = result.info
        self.ch_names = list(self.summary.get("recording", {}).get("channels_analysed")
                             or result.info.ch_names)

    # ------------------------------------------------------------------------------ numbers
    @property
    def assessment(self) -> dict[str, Any]:
        """The assessment: ``level``, ``reasons`` (rule, value, threshold, unit, source),
        ``checks``, red flags and caveats."""
        return self.summary.get("assessment") or {}

    @property
    def duration_s(self) -> float:
        """Length of the recording analysed."""
        return float(self.summary.get("duration_s") or 0.0)

    @property
    def rates(self) -> dict[str, dict[str, Any]]:
        """Fasciculations per minute of rest with their 95 % intervals, ``"pooled"`` over the
        channels and per channel name: ``fasciculations``, ``rest_minutes``, ``per_min_rest``
        (None without rest), ``low``, ``high``, ``confidence``."""
        out = {"pooled": rate_entry(self.summary)}
        for name, block in (self.summary.get("channels") or {}).items():
            out[name] = rate_entry(block)
        return out

    def headline(self) -> str:
        """One line: fasciculations, rest, rate with interval, assessment level."""
        r = self.rates["pooled"]
        if r["per_min_rest"] is None:
            rate = "no rest to count over"
        else:
            rate = (f"{r['per_min_rest']:.2f}/min (95 % {r['low']:.2f}-{r['high']:.2f})")
        return (f"{r['fasciculations']} fasciculation(s) in {r['rest_minutes']:.1f} min of rest, "
                f"{rate}; assessment: {self.assessment.get('level', 'n/a')}")

    def to_data_frame(self):
        """The events as a ``pandas.DataFrame`` (pandas must be installed)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Night.to_data_frame needs pandas: pip install pandas") from None
        return pd.DataFrame(self.events)

    # ------------------------------------------------------------------------------ MNE and files
    def to_annotations(self):
        """The events as ``mne.Annotations`` on their channel, on the recording's time zero in MNE.

        ``orig_time`` is the recording's ``meas_date`` as MNE reads it (for EDF/BDF the header's
        whole second, see :func:`acquisition.stream.annotation_origin`), so
        ``raw.set_annotations(raw.annotations + night.to_annotations())`` places every event on
        its sample beside the recording's own annotations.
        """
        import mne

        from acquisition.stream import annotation_origin

        orig_time, first_time_s = annotation_origin(self._info)
        ev = self.events
        return mne.Annotations(ev["onset_s"] + first_time_s, ev["duration_s"],
                               ev["kind"].tolist(), orig_time=orig_time,
                               ch_names=[[c] for c in ev["channel"].tolist()])

    def save(self, out_dir: str | os.PathLike, overwrite: bool = False) -> dict[str, Path]:
        """Write the files of ``calfwatch analyze`` into ``out_dir`` (events.tsv, events.json,
        summary.json, annotations.txt, events.edf).

        Returns
        -------
        dict
            Paths by key (see :func:`calfwatch.outputs.write_outputs`).

        Raises
        ------
        FileExistsError
            One of the files is there already and ``overwrite`` is False.
        """
        from calfwatch.outputs import ANNOTATIONS_FILE, EVENTS_FILE, SUMMARY_FILE, write_outputs

        out = Path(out_dir)
        if not overwrite:
            for name in (EVENTS_FILE, SUMMARY_FILE, ANNOTATIONS_FILE):
                if (out / name).exists():
                    raise FileExistsError(f"{out / name} exists; use overwrite=True")
        return write_outputs(out, self._rows, self.summary, self._info)

    # ------------------------------------------------------------------------------ display
    def plot_events(self, show: bool = True):
        """The night as a timeline, one row per event kind, lost spans shaded.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from calfwatch.night_plots import plot_events

        return plot_events(self, show=show)

    def plot_rates(self, show: bool = True):
        """Fasciculations per minute of rest for each clock hour, with 95 % intervals.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from calfwatch.night_plots import plot_rates

        return plot_rates(self, show=show)

    def __repr__(self) -> str:
        return (f"<Night | {', '.join(self.ch_names)} at {self.sfreq_hz:g} Hz, "
                f"{self.duration_s / 60:.1f} min, {len(self.events)} events | {self.headline()}>")

    def _repr_html_(self) -> str:
        from calfwatch.night_plots import html_summary

        return html_summary(self, escape=html.escape)
