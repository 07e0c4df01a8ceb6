"""Analyse a recording file, and finish a night (outputs, history) for analyze, record and demo.

:func:`open_stream` opens any recording the reader reads as a replay at full speed over its EMG
channels; :func:`analyze_file` runs it through the engine; :func:`finish_night` is the common ending
of ``analyze`` and ``record``: the wearer's history feeds the assessment, the output files are
written, and the night joins the history.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acquisition.edf.labels import typed_other_than_emg
from acquisition.errors import RecordingError
from acquisition.stream import SampleChunk

if TYPE_CHECKING:
    from classifier.config import ClassifierConfig

#: Chunk length of a file replayed for analysis (the chain's results do not depend on it). Long
#: chunks for throughput: the chain runs each in a few pieces, and every piece costs some Python
#: beside its kernels (120 s: about 16 MB per copy of an 8-channel 2 kHz chunk).
FILE_CHUNK_S = 120.0


def open_stream(path: str | os.PathLike, units: str | None = None, *,
                channels: str | None = None):
    """A :class:`acquisition.replay.ReplayStream` over the EMG channels of any recording, or over
    the ``channels`` named (``"1,2"`` or names, :func:`acquisition.picks.pick_channels`).

    Channels the file marks bad (``info["bads"]`` of a FIF, as MNE's browser saves them) are
    left out, as MNE's own functions leave them out, unless named in ``channels``; they are
    listed in ``stream.info.device["marked_bad"]`` (:func:`reader_notes`). So are channels the
    file types other than EMG beside channels it types EMG (a FIF's types; an EDF+ label's
    first word, ``EEG Fpz-Cz``, where other labels say ``EMG`` or no type), in
    ``stream.info.device["typed_not_emg"]``. Of an EDF/BDF file whose signals have different
    rates (a polysomnograph's), the channels named are read as stored, the others not at all.

    Raises
    ------
    RecordingError
        Unreadable, empty, truncated or unknown file; no EMG-like channel; a file of several
        rates without ``channels``, or channels of different rates named; less than a second of
        signal. The message is one line naming the file, whatever library failed to read it.
    """
    from acquisition.picks import pick_channels

    try:
        stream = _open_stream(path, units, channels)
    except RecordingError:
        raise
    except (ValueError, OSError, LookupError, ArithmeticError, EOFError) as exc:
        problem = " ".join(str(exc).split()) or type(exc).__name__
        raise RecordingError(path, f"cannot be read ({problem})") from None
    if stream.n_times < stream.info.sfreq_hz:
        stream.close()
        n = stream.n_times
        raise RecordingError(path, f"only {n} sample{'s' if n != 1 else ''} "
                                   f"({n / stream.info.sfreq_hz:g} s): too short to analyse")
    if stream.signals is not None:
        return stream  # picked as the file was opened (several rates, or typed other than EMG)
    try:
        return pick_channels(stream, channels, os.fspath(path))
    except BaseException:
        stream.close()
        raise


def _edf_signals(path: str | os.PathLike,
                 channels: str | None) -> tuple[list[int] | None, list[str]]:
    """The data signals to read of an EDF/BDF file (None: all of them, or the ``channels`` to
    be picked later) and those left out as their labels type them other than EMG.

    The ``channels`` named are read when the file's signals have different rates; they must be
    of one rate. Without ``channels``, signals labelled with another EDF+ type (``EEG Fpz-Cz``,
    ``ECG``) are left out beside signals typed EMG or not typed, as a FIF's; those left must be
    of one rate: read together at the fastest, a slower signal would pass for a fast one.
    """
    from acquisition.edf.stream import data_signal_rates, data_signal_types
    from acquisition.picks import parse_channels

    rates = data_signal_rates(path)
    if channels:
        if len({hz for _, hz in rates}) <= 1:
            return None, []
        rows = parse_channels(channels, [name for name, _ in rates], os.fspath(path))
        if len({rates[row][1] for row in rows}) > 1:
            named = ", ".join(f"{rates[row][0]} {rates[row][1]:g} Hz" for row in rows)
            raise RecordingError(path, f"the channels named have different rates ({named}): "
                                       "analyse channels of one rate together")
        return rows, []
    types = data_signal_types(path)
    other = typed_other_than_emg(types)
    rows = [row for row, left_out in enumerate(other) if not left_out]
    typed = [f"{rates[row][0]} ({types[row]})" for row, left_out in enumerate(other) if left_out]
    if len({rates[row][1] for row in rows}) > 1:
        _refuse_several_rates(path, rates)
    return (None if len(rows) == len(rates) else rows), typed


def _refuse_several_rates(path: str | os.PathLike, rates: list[tuple[str, float]]) -> None:
    from calfwatch.engine import MIN_SFREQ_HZ

    fast = [name for name, hz in rates if hz >= MIN_SFREQ_HZ]
    listed = ", ".join(f"{name} {hz:g} Hz" for name, hz in rates)
    hint = (f"name the EMG channels to analyse with --channels, channels= in Python (of at "
            f"least {MIN_SFREQ_HZ:g} Hz: {', '.join(fast)})" if fast else
            f"none reaches the {MIN_SFREQ_HZ:g} Hz fasciculation detection needs")
    raise RecordingError(path, f"signals of different rates ({listed}): {hint}")


def reader_notes(stream, path: str) -> list[str]:
    """One line for each kind of signal the reader left out of ``stream`` (not in a voltage
    unit, EDF/BDF; marked bad in the file; typed other than EMG, FIF), for the spans annotated
    ``BAD...`` (left out as lost time) and for samples lost at sequence-number jumps
    (OpenSignals)."""
    notes = []
    left_out = stream.info.device.get("left_out")
    if left_out:
        notes.append(f"{path}: left out, not in a voltage unit (V, mV, uV, nV): {', '.join(left_out)}")
    marked_bad = stream.info.device.get("marked_bad")
    if marked_bad:
        notes.append(f"{path}: left out, marked bad in the file: {', '.join(marked_bad)} "
                     "(--channels analyses them)")
    typed_other = stream.info.device.get("typed_not_emg")
    if typed_other:
        notes.append(f"{path}: left out, typed other than EMG in the file: "
                     f"{', '.join(typed_other)} (--channels analyses them)")
    spans = stream.info.device.get("marked_bad_spans")
    if spans:
        texts = ", ".join(sorted({str(t) for _, _, t in spans}))
        notes.append(f"{path}: left out, marked bad in the file: {len(spans)} span"
                     f"{'s' if len(spans) > 1 else ''}, {sum(d for _, d, _ in spans):.1f} s "
                     f"({texts}), as lost time")
    jumps = stream.info.device.get("sequence_jumps")
    if jumps:
        notes.append(f"{path}: samples lost at {len(jumps)} sequence-number jump(s), the first "
                     f"at {jumps[0]:g} s: lost time from there, each gap the fewest samples the "
                     "4-bit number allows (it may be longer by a multiple of 16)")
    return notes


def _open_stream(path: str | os.PathLike, units: str | None, channels: str | None = None):
    from acquisition.edf.header import edf_kind
    from acquisition.replay import ReplayStream

    keep_bads = channels is not None
    if units is None and edf_kind(path) is not None:
        # EDF/BDF by content, whatever the name (Sleep-EDF's .rec): read record by record in
        # constant memory, each record of an EDF+D at its time
        signals, typed_other = _edf_signals(path, channels)
        stream = ReplayStream(path, chunk_s=FILE_CHUNK_S, signals=signals)
        if typed_other:
            stream.info.device["typed_not_emg"] = typed_other
        return stream
    from acquisition.reader import SEQ_GAP_TEXT, open_recording

    raw = open_recording(path, preload=False, units=units, nan_lost=False)
    types = raw.get_channel_types()
    # channels the file types as other than EMG (a FIF's EEG, ECG...) only when named
    emg = [name for name, kind in zip(raw.ch_names, types, strict=True)
           if kind == "emg" or (keep_bads and kind != "stim")]
    typed_other = [f"{name} ({kind})" for name, kind in zip(raw.ch_names, types, strict=True)
                   if name not in emg and kind != "stim"]
    if not emg or raw.n_times == 0:
        what = "no EMG-like channel" if not emg else "no samples"
        raise RecordingError(path, f"{what} to analyse")
    bads = [] if keep_bads else [name for name in emg if name in raw.info["bads"]]
    if bads and len(bads) == len(emg):
        raise RecordingError(path, f"every EMG channel is marked bad in the file "
                                   f"({', '.join(bads)}); name those to analyse with --channels "
                                   "(channels= in Python)")
    emg = [name for name in emg if name not in bads]
    if len(emg) < len(raw.ch_names):
        raw.pick(emg)
    _annotate_nan_lost(raw, channels, path)
    stream = ReplayStream(raw, chunk_s=FILE_CHUNK_S)
    if bads:
        stream.info.device["marked_bad"] = bads
    if typed_other:
        stream.info.device["typed_not_emg"] = typed_other
    jumps = [a for a in raw.annotations if a["description"].startswith(SEQ_GAP_TEXT)]
    if jumps:
        stream.info.device["sequence_jumps"] = [round(float(a["onset"]), 3) for a in jumps]
    return stream


def _annotate_nan_lost(raw, channels: str | None, path: str | os.PathLike) -> None:
    """Lost time where a channel analysed holds NaN: the ``channels`` named, else every channel
    of ``raw`` (those :func:`_open_stream` kept). NaN on a channel left out costs the others
    nothing; NaN on a channel the file marks bad, when named, is not analysed as signal."""
    from acquisition.lost_time import annotate_nan_spans
    from acquisition.picks import parse_channels

    rows = (parse_channels(channels, list(raw.ch_names), os.fspath(path)) if channels
            else range(len(raw.ch_names)))
    annotate_nan_spans(raw, list(rows))


def _history(subject: str, side: str, history_path: str | None):
    if not subject:
        return None, [], []
    from calfwatch.history import open_store

    store = open_store(history_path)
    return store, store.nights(subject, side or None), store.symptoms(subject)


def finish_night(
    engine,
    out_dir: str | os.PathLike | None,
    *,
    subject: str = "",
    side: str = "",
    meta: dict[str, Any] | None = None,
    history_path: str | None = None,
):
    """Finish the engine's night: assess with the history, write the outputs, store the night.

    Returns
    -------
    (NightResult, dict)
        The result and the paths written (empty without ``out_dir``).
    """
    from calfwatch.outputs import write_outputs

    store, nights, symptoms = _history(subject, side, history_path)
    try:
        meta = {"subject": subject, "side": side, **(meta or {})}
        result = engine.finish(history_nights=nights, symptoms=symptoms, meta=meta)
        paths = {}
        if out_dir is not None:
            paths = write_outputs(out_dir, result.events, result.summary, engine.info)
        if store is not None:
            store.add_night(subject, side or None, result.summary)
            paths["history"] = store.path
    finally:
        if store is not None:
            store.close()
    return result, paths


def analyze_file(
    path: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    *,
    subject: str = "",
    side: str = "",
    history_path: str | None = None,
    on_chunk: Callable[[SampleChunk], None] | None = None,
    units: str | None = None,
    on_open: Callable[[Any], None] | None = None,
    mains_hz: float | None = None,
    config: ClassifierConfig | None = None,
    channels: str | None = None,
):
    """Analyse one recording file through the engine (the same code as a live night).

    Returns
    -------
    (NightResult, dict)
        As :func:`finish_night`.

    ``on_open(stream)`` is called once the file is open (e.g. to size a progress bar from
    ``stream.n_times``); ``on_chunk(chunk)`` after each chunk is analysed. ``mains_hz`` (50 or
    60) skips the decision from the first 10 s of signal; ``config`` is the classifier
    configuration (:func:`classifier.config.load_config` when omitted). ``channels``
    (``"1,2"``, names) keeps those channels only.
    """
    from calfwatch.engine import NightEngine, feed_stream
    from calfwatch.log import logger

    logger.info("analysing %s", os.fspath(path))
    stream = open_stream(path, units, channels=channels)
    try:
        if subject and stream.info.meas_date is None:
            raise RecordingError(path, "the recording states no date (date unknown): a night "
                                 "without a date cannot join a history; analyse it without "
                                 "--subject")
        engine = NightEngine(stream.info, mains_hz=mains_hz, config=config,
                             label=os.fspath(path))
        if on_open is not None:
            on_open(stream)
    except BaseException:
        stream.close()
        raise
    feed_stream(stream, engine, on_chunk)
    meta = {"file": Path(path).name}
    return finish_night(engine, out_dir, subject=subject, side=side, meta=meta,
                        history_path=history_path)
