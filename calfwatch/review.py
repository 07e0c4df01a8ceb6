"""Review a recording in MNE's browser with calfwatch's events as annotations.

:func:`review` loads the recording, filters its EMG channels for surface EMG (20-450 Hz, 4th-order
Butterworth, zero phase, in place block by block: MNE's browser filters only "data" channels, which
EMG is not, so the filter is applied to the loaded samples), adds the events of an analysis folder
(``annotations.txt``, else ``events.tsv``) as channel-specific annotations and shows it at a µV
scale. Under a non-interactive matplotlib backend (tests, servers) it returns the figure without
blocking.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from calfwatch.log import logger

#: Surface-EMG display band (SENIAM/ISEK 20-450 Hz).
BAND_HZ = (20.0, 450.0)
#: Half the vertical space of one channel, in volts: µV-level EMG.
EMG_SCALE_V = 200e-6
#: Seconds shown per screen: fasciculations last 5-30 ms, so a short window.
WINDOW_S = 10.0
#: Zero-phase filtering runs in blocks of this length, each with this margin on both sides (the
#: 4th-order 20 Hz high-pass has decayed to nothing within the margin), so an 8-hour file is
#: filtered in place without whole-night copies.
BLOCK_S = 60.0
MARGIN_S = 2.0
#: Samples (all channels together) loaded at most, about 1 GB of float64: a longer recording
#: (8 h x 8 channels at 2 kHz is 3.7 GB) is shown from ``start_s`` for as long as fits.
MAX_LOAD_SAMPLES = 128 * 1024 * 1024
#: Prefix given to the recording's own annotations that share a name with an event kind.
RECORDING_PREFIX = "recording:"
_NON_INTERACTIVE = {"agg", "pdf", "ps", "svg", "pgf", "cairo", "template"}


class ReviewError(ValueError):
    """The events cannot be shown on the recording (message: '<path>: <problem>')."""


def emg_band_sos(sfreq_hz: float, high_hz: float | None) -> np.ndarray:
    """4th-order Butterworth band-pass (or high-pass when ``high_hz`` is None) as SOS."""
    from scipy import signal

    if high_hz is None:
        return signal.butter(4, BAND_HZ[0], btype="highpass", fs=sfreq_hz, output="sos")
    return signal.butter(4, [BAND_HZ[0], high_hz], btype="bandpass", fs=sfreq_hz, output="sos")


def filtfilt_blocks(x: np.ndarray, sos: np.ndarray, block: int, margin: int) -> np.ndarray:
    """Zero-phase filter ``x`` in place, block by block; returns ``x``.

    Each block is filtered forward and backward together with ``margin`` samples of the original
    signal on both sides, which are then dropped: the same as one ``scipy.signal.sosfiltfilt``
    over the whole signal once the filter's response has decayed within the margin, using one
    block of extra memory instead of several copies of the signal.
    """
    from scipy import signal

    if block <= 0 or margin < 0:
        raise ValueError(f"block ({block}) must be positive and margin ({margin}) not negative")
    n = x.shape[-1]
    left = x[:0].copy()  # up to ``margin`` original samples just before the current block
    for start in range(0, n, block):
        stop = min(start + block, n)
        segment = np.concatenate([left, x[start:min(n, stop + margin)]])
        y = signal.sosfiltfilt(sos, segment)
        keep = len(left)
        left = np.concatenate([left, x[start:stop]])[max(0, keep + stop - start - margin):]
        x[start:stop] = y[keep:keep + stop - start]
    return x


def filter_emg(raw: Any) -> None:
    """Band-pass the EMG channels of a loaded Raw in place (20-450 Hz, or 20 Hz high-pass when
    450 Hz is too close to Nyquist), zero phase, block by block."""
    sfreq = raw.info["sfreq"]
    high = BAND_HZ[1] if BAND_HZ[1] < 0.95 * sfreq / 2.0 else None
    run = partial(filtfilt_blocks, sos=emg_band_sos(sfreq, high), block=round(BLOCK_S * sfreq),
                  margin=round(MARGIN_S * sfreq))
    raw.apply_function(run, picks="emg", channel_wise=True, verbose="error")


def is_interactive_backend() -> bool:
    """True when matplotlib's backend can open a window (not Agg, PDF, SVG...)."""
    import matplotlib

    return matplotlib.get_backend().lower() not in _NON_INTERACTIVE


def default_events_dir(recording: str | os.PathLike) -> Path:
    """``<recording name>_analysis`` beside the recording (where ``calfwatch analyze`` and
    ``calfwatch record`` write)."""
    from calfwatch.outputs import analysis_dir

    return analysis_dir(recording)


def read_events_annotations(events_dir: str | os.PathLike, raw: Any):
    """The events of an analysis folder as :class:`mne.Annotations` on the recording's timeline.

    ``annotations.txt`` is read when present, else ``events.tsv``. Onsets are seconds from the
    recording start; each annotation is on its event's channel when the recording has it.

    Raises
    ------
    ReviewError
        The folder holds neither file, or a file cannot be read.
    """
    import mne

    from calfwatch.outputs import ANNOTATIONS_FILE, EVENTS_FILE, read_events_tsv

    folder = Path(events_dir)
    txt, tsv = folder / ANNOTATIONS_FILE, folder / EVENTS_FILE
    try:
        if txt.is_file():
            ann = mne.read_annotations(txt)
            onsets, durations = ann.onset.copy(), ann.duration.copy()
            if ann.orig_time is not None and raw.info["meas_date"] is not None:
                onsets += (ann.orig_time - raw.info["meas_date"]).total_seconds()
            rows = list(zip(onsets, durations, ann.description, ann.ch_names, strict=True))
        elif tsv.is_file():
            rows = [(e["onset"], e["duration"] or 0.0, e["kind"], (e["channel"],))
                    for e in read_events_tsv(tsv)]
        else:
            raise ReviewError(f"{folder}: no {ANNOTATIONS_FILE} or {EVENTS_FILE} "
                              "(run calfwatch analyze on the recording first)")
    except (OSError, ValueError, KeyError, IndexError) as exc:
        if isinstance(exc, ReviewError):
            raise
        raise ReviewError(f"{folder}: events not readable ({' '.join(str(exc).split())})") from None
    names = set(raw.ch_names)
    return mne.Annotations(
        onset=np.array([r[0] for r in rows], float),
        duration=np.array([r[1] for r in rows], float),
        description=[str(r[2]) for r in rows],
        ch_names=[tuple(c for c in r[3] if c in names) for r in rows],
        orig_time=raw.info["meas_date"],
    )


def _with_events(raw: Any, events: Any) -> None:
    """Set the recording's annotations plus the events (own ones renamed when they clash)."""
    import mne

    from classifier.kinds import EVENT_KINDS

    own = raw.annotations
    renamed = [f"{RECORDING_PREFIX}{d}" if d in EVENT_KINDS else str(d) for d in own.description]
    own = mne.Annotations(own.onset, own.duration, renamed, orig_time=own.orig_time,
                          ch_names=own.ch_names)
    raw.set_annotations(own + events if len(own) else events, emit_warning=False)


def _load_part(raw: Any, start_s: float, name: str) -> tuple[float, tuple[float, float] | None]:
    """Load the recording, or the part from ``start_s`` that fits :data:`MAX_LOAD_SAMPLES` with
    ``MARGIN_S`` on both sides for the filter.

    Returns where the display starts within what was loaded (s), and the span (s, in the loaded
    part's time) to keep once it is filtered, or None when the whole recording was loaded.
    """
    sfreq = raw.info["sfreq"]
    total_s = raw.n_times / sfreq
    if start_s >= total_s:
        raise ReviewError(f"{name}: --start {start_s:g} s is beyond the end ({total_s:.0f} s)")
    n_ch = len(raw.ch_names)
    if raw.n_times * n_ch <= MAX_LOAD_SAMPLES:
        raw.load_data(verbose="error")
        return start_s, None
    stop_s = min(total_s, start_s + MAX_LOAD_SAMPLES / (n_ch * sfreq))
    lo_s, hi_s = max(0.0, start_s - MARGIN_S), min(total_s, stop_s + MARGIN_S)
    raw.crop(lo_s, hi_s, include_tmax=False, verbose="error").load_data(verbose="error")
    logger.warning("note: %s: showing %.0f-%.0f s of %.0f s (all of it would take %.1f GB of "
                   "memory); --start chooses the part", name, start_s, stop_s, total_s,
                   sfreq * total_s * n_ch * 8 / 1e9)
    return 0.0, (start_s - lo_s, stop_s - lo_s)


def review(recording: str | os.PathLike, events_dir: str | os.PathLike | None = None, *,
           block: bool | None = None, show: bool | None = None, start_s: float = 0.0,
           window_s: float = WINDOW_S, units: str | None = None):
    """Open ``recording`` in MNE's browser with the events of ``events_dir`` as annotations.

    Parameters
    ----------
    recording : path-like
        Any recording :func:`acquisition.reader.open_recording` reads.
    events_dir : path-like, optional
        Output folder of ``calfwatch analyze`` (default ``<recording name>_analysis`` beside it, if
        present; without one the recording is shown with its own annotations only).
    block, show : bool, optional
        Passed to ``raw.plot``; by default they block and show only with an interactive backend.
    start_s, window_s : float
        First second shown and seconds per screen.
    units : {"uV", "mV", "V"}, optional
        Units of CSV channels whose header does not state them (CSV files only).

    Returns
    -------
    figure
        MNE's browser figure (``fig.mne.inst`` is the Raw with the annotations).
    """
    import mne

    from acquisition.reader import open_recording

    raw = open_recording(recording, preload=False, units=units)
    start_s, keep = _load_part(raw, start_s, Path(recording).name)
    filter_emg(raw)
    if keep is not None:  # the filter's margins go
        raw.crop(*keep, include_tmax=False, verbose="error")
    folder = Path(events_dir) if events_dir is not None else default_events_dir(recording)
    if events_dir is not None or folder.is_dir():
        _with_events(raw, read_events_annotations(folder, raw))
    interactive = is_interactive_backend()
    kwargs = dict(
        picks="emg", scalings={"emg": EMG_SCALE_V}, start=start_s,
        duration=min(window_s, max(raw.times[-1], 1.0)), title=Path(recording).name,
        block=interactive if block is None else block, show=interactive if show is None else show,
        show_scrollbars=True, verbose="error",
    )
    if interactive:  # the user's browser (Qt when installed)
        return raw.plot(**kwargs)
    with mne.utils.use_log_level("error"), mne.viz.use_browser_backend("matplotlib"):
        return raw.plot(**kwargs)
