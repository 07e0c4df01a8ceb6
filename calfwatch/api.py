"""The Python interface: read a recording, analyse it, get a :class:`~calfwatch.night.Night`.

:func:`analyze` runs the same engine as ``calfwatch analyze`` and ``calfwatch record`` (a file is
analysed by :func:`calfwatch.analysis.analyze_file`, the function the command line calls), on a
file, an ``mne.io.Raw`` or a NumPy array in µV.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from calfwatch.log import logger, use_log_level
from calfwatch.night import Night

if TYPE_CHECKING:
    from classifier.config import ClassifierConfig

#: Channel names given to the rows of an array.
ARRAY_CH_PREFIX = "emg"
#: The mains frequencies (Hz) the notch filters are built for, as ``--mains`` takes them.
MAINS_HZ = (50.0, 60.0)


def read_recording(path: str | os.PathLike, *, preload: bool = False,
                   verbose: bool | str | int | None = None):
    """Open a recording of any format calfwatch reads as an ``mne.io.Raw``.

    EDF/EDF+/BDF/BDF+, FIF, WFDB, OpenSignals text and CSV with a time column; every data channel
    has type ``'emg'`` (but those of a FIF that types some channels ``'emg'`` itself, which keep
    the file's types); spans the recorder lost are annotated ``BAD_ACQ_SKIP``.

    Parameters
    ----------
    path : str or os.PathLike
        The file (a WFDB record by its ``.hea``).
    preload : bool
        Load every sample now (EDF/BDF, FIF and WFDB are otherwise read on demand).
    verbose : bool, str, int or None
        Level of messages for this call (see :func:`calfwatch.set_log_level`).

    Returns
    -------
    raw : mne.io.Raw
        The recording, in volts as MNE keeps it.

    Raises
    ------
    RecordingError
        (a ``ValueError``) The file is missing, truncated, of an unknown format or invalid.

    Examples
    --------
    >>> raw = calfwatch.read_recording("night.edf")  # doctest: +SKIP
    >>> raw.set_annotations(calfwatch.analyze(raw).to_annotations())  # doctest: +SKIP
    """
    from acquisition.reader import open_recording

    with use_log_level(verbose):
        raw = open_recording(path, preload=preload)
        logger.info("%s: %d channel(s) at %g Hz, %.1f s", Path(path).name, len(raw.ch_names),
                    raw.info["sfreq"], raw.n_times / raw.info["sfreq"])
        return raw


def analyze(
    data,
    mains_hz: float | None = None,
    config: Mapping[str, Any] | str | os.PathLike | None = None,
    channels: str | Sequence[str] | None = None,
    verbose: bool | str | int | None = None,
) -> Night:
    """Detect and classify the events of a night, summarise and assess it.

    Parameters
    ----------
    data : str, os.PathLike, mne.io.BaseRaw or (array_uv, sfreq_hz)
        A recording file (any format :func:`read_recording` reads); a Raw, whose channels of type
        ``'emg'`` not in ``raw.info["bads"]`` are analysed; or a tuple of an array in µV, shape
        ``(n_channels, n_times)`` or ``(n_times,)``, and its sampling rate in Hz (channels named
        ``emg1``, ``emg2``...; NaN marks samples that were lost, analysed as gaps).
    mains_hz : {50, 60} or None
        The mains frequency in Hz, 50 or 60 (as ``--mains``); None decides from the first 10 s
        of signal.
    config : dict, str or os.PathLike, optional
        Overrides of the classifier and assessment thresholds (a nested dict like
        ``thresholds.toml``, or a TOML file); the defaults when omitted.
    channels : str or list of str, optional
        The channels to analyse, whatever their type and bad marks: names, or a string as
        ``calfwatch analyze --channels`` takes it (``"1,2"``: numbers from 1, or names), e.g.
        the leg EMG of a polysomnograph's file whose signals have different rates.
    verbose : bool, str, int or None
        Level of messages for this call (see :func:`calfwatch.set_log_level`).

    Returns
    -------
    night : Night
        Events, summary, assessment and rates with their intervals.

    Raises
    ------
    RecordingError
        (a ``ValueError``) Unreadable file, no EMG channel, a rate below 500 Hz, no signal.
    ValueError
        ``mains_hz`` not 50, 60 or None; an array that cannot be a recording.
    TypeError
        ``data`` of another type; an array not of numbers (or of bools); a rate not a number.

    Examples
    --------
    >>> import numpy as np
    >>> import calfwatch
    >>> rng = np.random.default_rng(0)
    >>> night = calfwatch.analyze((rng.normal(0.0, 2.0, 2000 * 60), 2000.0), mains_hz=50,
    ...                           verbose="WARNING")
    >>> night.summary["duration_s"]
    60.0
    """
    with use_log_level(verbose):
        mains_hz = _mains(mains_hz)
        cfg = _config(config)
        picks = _channels_text(channels)
        if isinstance(data, str | os.PathLike):
            return _analyze_path(data, mains_hz, cfg, picks)
        if isinstance(data, tuple):
            if len(data) != 2:
                raise TypeError(f"data as a tuple must be (array_uv, sfreq_hz); got {len(data)} "
                                "items")
            return _analyze_raw(_array_raw(*data), mains_hz, cfg, "array", picks)
        import mne

        if isinstance(data, mne.io.BaseRaw):
            return _analyze_raw(data, mains_hz, cfg, _raw_label(data), picks)
        raise TypeError("data must be a path, an mne.io.Raw or a tuple (array_uv, sfreq_hz); "
                        f"got {type(data).__name__}")


def _mains(mains_hz) -> float | None:
    """``mains_hz`` as ``--mains`` takes it: None, 50 or 60 (a number, not text); a ValueError
    for any other value, which would build notch filters at a frequency no mains has."""
    if mains_hz is None:
        return None
    if (isinstance(mains_hz, numbers.Real) and not isinstance(mains_hz, bool)
            and float(mains_hz) in MAINS_HZ):
        return float(mains_hz)
    raise ValueError(f"mains_hz must be None, 50 or 60; got {mains_hz!r}")


def _config(config) -> ClassifierConfig | None:
    from classifier.config import config_with, load_config

    if config is None:
        return None
    if isinstance(config, str | os.PathLike):
        return load_config(config)
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict or a TOML file, got {type(config).__name__}")
    return config_with(dict(config), "config", base=load_config())


def _channels_text(channels: str | Sequence[str] | None) -> str | None:
    """``channels`` as ``--channels`` takes them (names joined by commas)."""
    if channels is None or isinstance(channels, str):
        return channels
    names = list(channels)
    if not all(isinstance(name, str) for name in names):
        raise TypeError("channels must be a string or a list of channel names")
    return ",".join(names)


def _analyze_path(path, mains_hz, config, channels: str | None) -> Night:
    from calfwatch.analysis import analyze_file

    result, _ = analyze_file(path, mains_hz=mains_hz, config=config, channels=channels)
    return _night(result)


def _picked(raw, channels: str, label: str):
    """A copy of ``raw`` with the ``channels`` named, all typed EMG and none bad."""
    from acquisition.picks import parse_channels

    names = [raw.ch_names[row] for row in parse_channels(channels, raw.ch_names, label)]
    raw = raw.copy().pick(names)
    raw.info["bads"] = []
    raw.set_channel_types(dict.fromkeys(names, "emg"), on_unit_change="ignore", verbose="error")
    return raw


def _analyze_raw(raw, mains_hz, config, label: str, channels: str | None = None) -> Night:
    from acquisition.replay import ReplayStream
    from calfwatch.analysis import FILE_CHUNK_S, finish_night
    from calfwatch.engine import NightEngine, feed_stream

    owned = bool(channels)  # a copy of the caller's Raw, free to annotate
    if channels:
        raw = _picked(raw, channels, label)
    types = raw.get_channel_types()
    emg = [name for name, kind in zip(raw.ch_names, types, strict=True) if kind == "emg"]
    if not emg:
        raise ValueError(f"{label}: no channel of type 'emg' to analyse; set their type with "
                         "raw.set_channel_types({name: 'emg'})")
    emg = [name for name in emg if name not in raw.info["bads"]]  # as MNE's pick("emg") does
    if not emg:
        raise ValueError(f"{label}: every channel of type 'emg' is in raw.info['bads']")
    if len(emg) < len(raw.ch_names):
        raw, owned = raw.copy().pick(emg), True
    raw = _nan_lost(raw, owned)
    logger.info("analysing %s: %s at %g Hz, %.1f s", label, ", ".join(emg), raw.info["sfreq"],
                raw.n_times / raw.info["sfreq"])
    stream = ReplayStream(raw, chunk_s=FILE_CHUNK_S)
    try:
        engine = NightEngine(stream.info, mains_hz=mains_hz, config=config, label=label)
    except BaseException:
        stream.close()
        raise
    feed_stream(stream, engine)
    result, _ = finish_night(engine, None, meta={"file": label})
    return _night(result)


def _nan_lost(raw, owned: bool):
    """``raw`` (a copy unless ``owned``) with the spans where a channel holds NaN annotated lost,
    as the reader annotates them in a file and :func:`_array_raw` in an array."""
    from acquisition.lost_time import annotate_lost, nan_spans

    spans = np.array(nan_spans(raw, range(len(raw.ch_names))), dtype=np.int64).reshape(-1, 2)
    if not spans.size:
        return raw
    raw = raw if owned else raw.copy()
    annotate_lost(raw, spans[:, 0], spans[:, 1])
    return raw


def _night(result) -> Night:
    night = Night(result)
    logger.info("%s", night.headline())
    return night


def _raw_label(raw) -> str:
    names = getattr(raw, "filenames", None) or [None]
    return os.fspath(names[0]) if names[0] is not None else "raw"


def _array_raw(array_uv, sfreq_hz: float):
    """An ``mne.io.RawArray`` of EMG channels from µV, NaN spans annotated as lost."""
    import mne

    from acquisition.lost_time import annotate_lost, live_rows, nan_runs

    data = _checked_array(array_uv, sfreq_hz)
    names = [f"{ARRAY_CH_PREFIX}{i + 1}" for i in range(data.shape[0])]
    info = mne.create_info(names, float(sfreq_hz), "emg")
    raw = mne.io.RawArray(data * 1e-6, info, verbose="error")
    missing = np.isnan(data)
    # a row NaN throughout is a lost lead, left to the engine to report (as nan_spans does)
    annotate_lost(raw, *nan_runs(missing[live_rows(missing)].any(axis=0)))
    return raw


def _checked_array(array_uv, sfreq_hz: float) -> np.ndarray:
    """``array_uv`` as float64 ``(n_channels, n_times)``; a one-line error for what cannot be a
    recording: values that are not real numbers, no samples, more channels than samples (an
    array of ``(n_times, n_channels)`` read the other way round would make thousands of
    one-sample channels), or a rate that is not a positive number."""
    _check_rate(sfreq_hz)
    data = _real_array(array_uv)
    if data.ndim == 1:
        data = data[np.newaxis, :]
    if data.ndim != 2 or data.shape[1] == 0:
        raise ValueError(f"array must have shape (n_channels, n_times) with samples; got "
                         f"{np.shape(data)}")
    if data.shape[0] > data.shape[1]:
        raise ValueError(f"array has shape {data.shape}: more channels than samples; expected "
                         "(n_channels, n_times) (pass array.T for samples in rows)")
    return data


def _real_array(array_uv) -> np.ndarray:
    """``array_uv`` as float64. Integers are µV like floats (the interface takes µV, whatever
    their type: a converter's counts must be scaled to µV first); bools are refused: a mask (as
    ``x > 0``) is no signal, and would be analysed as 0 and 1 µV."""
    try:
        data = np.asarray(array_uv)
    except ValueError:  # nested lists of different lengths
        raise ValueError("array must be rectangular, (n_channels, n_times) with channels of "
                         "equal length") from None
    if data.dtype.kind == "c":
        raise ValueError("array holds complex numbers; expected real samples in µV")
    if data.dtype.kind == "b":
        raise TypeError("array holds bools; expected samples in µV (float or integer)")
    if data.dtype.kind not in "fiu":
        raise TypeError(f"array must hold numbers (samples in µV); got dtype {data.dtype}")
    return data.astype(np.float64, copy=False)


def _check_rate(sfreq_hz) -> None:
    if not isinstance(sfreq_hz, numbers.Real) or isinstance(sfreq_hz, bool):
        raise TypeError(f"sfreq_hz must be a number of Hz; got {type(sfreq_hz).__name__} "
                        f"{sfreq_hz!r}")
    if not (np.isfinite(sfreq_hz) and sfreq_hz > 0):
        raise ValueError(f"sfreq_hz must be a positive number of Hz; got {sfreq_hz!r}")
