"""One reader for every recording format calfwatch is handed: :func:`open_recording`.

Formats: EDF/EDF+ and BDF/BDF+ (MNE), FIF (MNE), WFDB records (``.hea`` + ``.dat``), OpenSignals /
BioSPPy simple text, and CSV with a time column. An EDF/BDF file is recognised by its first bytes
whatever its name; other formats by extension and, for files without a known extension, by the
first bytes. Every problem with the input is a
:class:`~acquisition.errors.RecordingError` naming the file.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable
from pathlib import Path

import mne
import numpy as np
from mne.io.edf.edf import RawBDF, RawEDF

from acquisition import _csv, _text_formats, _wfdb
from acquisition._text_formats import SEQ_GAP_TEXT  # noqa: F401 (part of this module's API)
from acquisition.edf.constants import UV_PER_UNIT, bytes_per_sample
from acquisition.edf.header import edf_kind
from acquisition.edf.labels import channel_names, signal_type, typed_other_than_emg
from acquisition.edf.stream_checks import check_edf_file
from acquisition.edf.truncation import check_truncation
from acquisition.edf.units import (
    left_out_signals,  # noqa: F401 (part of this module's API)
    unit_to_uv,
)
from acquisition.errors import RecordingError
from acquisition.lost_time import annotate_nan_spans

#: Channel types left as they are; every other channel becomes 'emg'.
_NON_DATA_TYPES = {"stim"}
#: Formats whose samples are scanned for NaN at open (lost time): those that store numbers that
#: can be NaN. EDF/BDF store integers (an EDF+D's pauses are annotated); WFDB records are scanned
#: for their invalid samples as they are opened (:mod:`acquisition._wfdb`).
_NAN_SCANNED = ("fif", "csv", "opensignals")
_FIF_MAGIC = b"\x00\x00\x00\x64"  # first tag: FIFF_FILE_ID (kind 100), big-endian


def open_recording(path: str | os.PathLike, *, preload: bool = False,
                   units: str | None = None, nan_lost: bool = True) -> mne.io.BaseRaw:
    """Open a recording of any supported format as an MNE Raw.

    Parameters
    ----------
    path : str or os.PathLike
        The file. A WFDB record may be named by its ``.hea``, its ``.dat`` or the record name.
    preload : bool
        Load all samples now. EDF/BDF, FIF and WFDB are otherwise read on demand; text files
        (OpenSignals, CSV) are always loaded whole, being small by nature.
    units : {"uV", "mV", "V"}, optional
        Units of CSV channels whose header does not state them. Only for CSV files.
    nan_lost : bool
        Annotate the spans where an EMG channel not marked bad holds NaN as lost time. False
        leaves that to a caller that analyses other channels
        (:func:`acquisition.lost_time.annotate_nan_spans` over those): NaN on a channel left out
        is not lost time, and NaN on a bad channel named for analysis is.

    Returns
    -------
    mne.io.BaseRaw
        Data in volts; every channel but stim channels has type ``'emg'`` (of a FIF file that
        types some channels ``'emg'``, the others keep their types, as do the signals of an
        EDF/BDF whose labels type them otherwise, ``EEG Fpz-Cz``, beside signals labelled
        ``EMG ...`` or untyped); of an EDF/BDF whose signals
        have different rates, those MNE upsampled to the fastest are in ``info["bads"]``;
        ``meas_date`` is the
        file's own start time, or None when the file does not state one; ``raw.filenames`` names
        the source file (the ``.hea`` for WFDB). Lost time is annotated ``BAD_ACQ_SKIP``: the
        gaps a file states, and, in every format, the spans where an EMG channel not marked bad
        holds NaN (a WFDB sample stored as its format's invalid value is NaN).

    Raises
    ------
    RecordingError
        The file is missing, empty, truncated, of an unknown format, or its content is invalid.
    """
    path = Path(path)
    kind, path = _identify(path)
    if units is not None and kind != "csv":
        raise RecordingError(path, f"units= applies to CSV files only; {kind} files state "
                             "their own units")
    raw = _as_emg(_READERS[kind](path, preload, units), keep_typed=kind in ("fif", "edf", "bdf"))
    if nan_lost and kind in _NAN_SCANNED:
        annotate_nan_spans(raw, _emg_picks(raw))
    return raw


# --- identification ------------------------------------------------------------------------------


def _identify(path: Path) -> tuple[str, Path]:
    """The format of ``path`` and the file to read (the header for WFDB records)."""
    if not path.exists():
        hea = _wfdb.header_path_for(path)
        if hea is None:
            raise RecordingError(path, "no such file")
        return "wfdb", hea
    if path.is_dir():
        raise RecordingError(path, "is a folder, not a recording")
    if path.stat().st_size == 0:
        raise RecordingError(path, "empty file")
    content = edf_kind(path)
    if content is not None:  # an EDF/BDF file whatever its name (Sleep-EDF's .rec)
        return content, path
    suffix = path.suffix.lower()
    if suffix == ".dat":
        hea = _wfdb.header_path_for(path)
        if hea is None:
            raise RecordingError(path, "a .dat file needs its WFDB header (.hea) beside it")
        return "wfdb", hea
    by_extension = {".edf": "edf", ".bdf": "bdf", ".fif": "fif", ".hea": "wfdb", ".csv": "csv"}
    if suffix in by_extension:
        return by_extension[suffix], path
    if path.name.lower().endswith(".fif.gz"):
        return "fif", path
    return _sniff(path), path


def _sniff(path: Path) -> str:
    """Recognise a file that is not EDF/BDF (:func:`~acquisition.edf.header.edf_kind`) by its
    first bytes."""
    with open(path, "rb") as fid:
        head = fid.read(512)
    if head.startswith(_FIF_MAGIC):
        return "fif"
    text = _head_text(head)
    if text.startswith("#"):
        return "opensignals"
    first = text.splitlines()[0] if text else ""
    cells = first.replace(";", ",").replace("\t", ",").split(",")
    if len(cells) > 1 and _csv.time_unit_s(cells[0]) is not None:
        return "csv"
    if first and all(c.isdigit() or c in "+-.eE \t\r" for c in first):
        raise RecordingError(path, "numbers without a header: sampling rate missing "
                             "(expected an OpenSignals '#' header or a CSV time column)")
    raise RecordingError(path, "unknown format (expected EDF/BDF, FIF, WFDB .hea/.dat, "
                         "OpenSignals text or CSV with a time column)")


def _head_text(head: bytes) -> str:
    """A file's first bytes as text, as the text readers decode it: UTF-16 where a byte-order
    mark says so (Excel's "Unicode text", saved as .txt), the byte-order mark and leading blanks
    left out.

    Examples
    --------
    >>> _head_text("\\ufefftime,GM_uV".encode("utf-16-le")), _head_text(b"\\xef\\xbb\\xbf time")
    ('time,GM_uV', 'time')
    """
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    text = head.decode("utf-16" if utf16 else "utf-8", errors="replace")
    return text.lstrip("\ufeff \t\r\n")


# --- per-format readers --------------------------------------------------------------------------


def _read_edf_like(path: Path, preload: bool, bdf: bool) -> mne.io.BaseRaw:
    left_out = check_truncation(path, bytes_per_sample(bdf))
    check_edf_file(str(path))  # what MNE would read with a guess (a record of 0 s, min == max)
    refuse_pauses(path)
    # The classes behind read_raw_edf/read_raw_bdf, which refuse names without the extension;
    # opened without the samples, loaded once each signal's scale is that of its unit.
    reader = RawBDF if bdf else RawEDF
    raw = _by_mne(path, bdf, lambda: reader(path, preload=False, exclude=left_out,
                                            verbose="error"))
    scale_voltage_units(path, raw)
    if preload:
        _by_mne(path, bdf, lambda: raw.load_data(verbose="error"))
    type_by_label(raw)
    forget_placeholder_date(path, raw)
    names = channel_names(raw.ch_names)  # "EMG calf_left" -> "calf_left" (EDF+ type prefix)
    if names != raw.ch_names:
        raw.rename_channels(dict(zip(raw.ch_names, names, strict=True)), verbose="error")
        _annotations_on_channels(raw)
    _mark_upsampled(path, raw)
    return raw


def _by_mne(path: Path, bdf: bool, read: Callable[[], mne.io.BaseRaw]) -> mne.io.BaseRaw:
    """``read()``, an MNE call on the EDF/BDF file ``path``; whatever MNE trips on, the user gets
    one line naming the file (:class:`RecordingError`)."""
    try:
        return read()
    except Exception as exc:
        raise RecordingError(path, f"not a readable {'BDF' if bdf else 'EDF'} file "
                             f"({' '.join(str(exc).split())})") from None


def scale_voltage_units(path: str | os.PathLike, raw: mne.io.BaseRaw) -> None:
    """Give each signal of the EDF/BDF file ``path``, opened by MNE and not loaded yet, the scale
    of its unit where MNE's is another: MNE scales ``uV``, ``µV``, ``mV`` and ``V`` and reads
    any other unit as volts, also a voltage spelt otherwise (``UV``, ``µV`` in UTF-8, ``nV``:
    :func:`acquisition.edf.units.unit_to_uv`).

    MNE multiplies each channel's samples by a factor (V per physical unit) it keeps with the
    file's numbers (``raw._raw_extras``); a factor that is not the unit's is set to the unit's,
    so a unit MNE reads right keeps its factor as it is. Stim channels are left as MNE reads
    them.

    Raises
    ------
    RecordingError
        Naming ``path``: a signal needs another scale and this MNE keeps none to set.

    Examples
    --------
    >>> raw = mne.io.read_raw_edf("night.edf")  # doctest: +SKIP
    >>> scale_voltage_units("night.edf", raw)  # doctest: +SKIP
    """
    from acquisition.edf.header import read_header

    units = read_header(path).signal_texts("physical_dimension")
    factors = _mne_factors(raw)
    if factors is None:
        if any(u not in UV_PER_UNIT and unit_to_uv(u) is not None for u in units):
            raise RecordingError(path, f"MNE {mne.__version__} cannot scale a voltage spelt "
                                       "otherwise than uV, mV or V: write one of those")
        return
    gains, signals, stim = factors
    for channel, signal in enumerate(signals):
        uv_per_unit = unit_to_uv(units[signal])
        if uv_per_unit is None or channel in stim:
            continue
        if gains[channel] != uv_per_unit / 1e6:  # a factor MNE has right stays as it is
            gains[channel] = uv_per_unit / 1e6


def _mne_factors(raw: mne.io.BaseRaw) -> tuple[np.ndarray, list[int], set[int]] | None:
    """What MNE's EDF reader keeps of ``raw``: the factor (V per physical unit) of each channel,
    which it multiplies the samples by as it reads them, the file's signal that each channel
    is, and the stim channels; None where this MNE keeps them otherwise."""
    try:
        extras = raw._raw_extras[0]
        gains, signals = extras["units"], [int(i) for i in extras["sel"]]
        stim = {int(i) for i in extras["stim_channel_idxs"]}
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None
    if len(gains) != len(raw.ch_names) or len(signals) != len(raw.ch_names):
        return None
    return gains, signals, stim


def forget_placeholder_date(path: str | os.PathLike, raw: mne.io.BaseRaw) -> None:
    """No date for an EDF+/BDF+ whose recording field says ``Startdate X`` (date unknown): MNE
    reads its start date field, where EDF+ puts the placeholder 01.01.85, as the date."""
    from acquisition.edf.header import read_header

    if raw.info["meas_date"] is not None and read_header(path).states_no_date():
        raw.set_meas_date(None)


def type_by_label(raw: mne.io.BaseRaw) -> None:
    """Type EMG the signals of an EDF/BDF whose labels say EMG or no type, and the others as
    their labels say (``EEG Fpz-Cz``: EEG) where those sit beside them (MNE types all EEG).

    Stim channels keep their type; a file whose every label states another type has all its
    signals typed EMG (:func:`acquisition.edf.labels.typed_other_than_emg`).

    Examples
    --------
    >>> import mne, numpy as np
    >>> raw = mne.io.RawArray(np.zeros((3, 10)), mne.create_info(
    ...     ["EEG Fpz-Cz", "ECG", "Leg L"], 512.0, "eeg"), verbose="error")
    >>> type_by_label(raw)
    >>> raw.get_channel_types()
    ['eeg', 'ecg', 'emg']
    """
    types = [signal_type(name) for name in raw.ch_names]
    other = typed_other_than_emg(types)
    change = {name: (kind if left_out else "emg")
              for name, kind, left_out, now in zip(raw.ch_names, types, other,
                                                   raw.get_channel_types(), strict=True)
              if now not in _NON_DATA_TYPES}
    raw.set_channel_types(change, on_unit_change="ignore", verbose="error")


def _mark_upsampled(path: Path, raw: mne.io.BaseRaw) -> None:
    """Mark bad the channels of a file of several rates that MNE read at the fastest from a
    slower one: upsampled, a slow signal would pass for a fast one (a polysomnograph's EEG at
    256 Hz beside its leg EMG at 512 Hz)."""
    from acquisition.edf.stream import data_signal_rates

    rates_hz = [hz for _, hz in data_signal_rates(path)]
    if len(rates_hz) != len(raw.ch_names) or len(set(rates_hz)) <= 1:
        return
    slow = {name for name, hz in zip(raw.ch_names, rates_hz, strict=True)
            if hz < raw.info["sfreq"]}
    raw.info["bads"] = [name for name in raw.ch_names if name in slow or name in raw.info["bads"]]


def refuse_pauses(path: str | os.PathLike) -> None:
    """Refuse (:class:`RecordingError` naming ``path``) an EDF+D/BDF+D file whose recording
    paused, before MNE reads it: MNE lays its records one after the other, every sample after a
    pause too early by the pause; and an EDF+C/BDF+C file whose records' time-keeping says it
    paused (refused by ``calfwatch analyze`` too). ``calfwatch analyze`` places the records of
    an EDF+D file (:class:`acquisition.edf.stream.EdfStream`); readers through MNE do not.

    Examples
    --------
    >>> refuse_pauses("night.edf")  # doctest: +SKIP
    """
    from acquisition.edf.discontinuous import holes
    from acquisition.edf.header import read_header
    from acquisition.edf.stream import EdfStream, UnsupportedEdf

    path = Path(path)
    if not read_header(path).text("reserved").startswith(("EDF+", "BDF+")):
        return
    try:
        stream = EdfStream(path)
    except UnsupportedEdf:
        return  # mixed rates: not placed by calfwatch either; read as MNE reads it
    if stream.record_starts is None:
        return
    a, b = holes(stream.record_starts, stream.spr)[0]
    raise RecordingError(path, f"discontinuous EDF+D: the recording pauses at "
                               f"{a / stream.sfreq_hz:g} s for {(b - a) / stream.sfreq_hz:g} s, "
                               "and this reader would close the pause up; calfwatch analyze "
                               "places each record at its time")


def _annotations_on_channels(raw: mne.io.BaseRaw) -> None:
    """Put ``text@@channel`` annotations on their channel under the renamed channel names.

    MNE's EDF reader does so at open for names it has; the renamed ones are done here.
    """
    ann = raw.annotations
    if not any("@@" in d for d in ann.description):
        return
    names = set(raw.ch_names)
    texts, channels = [], []
    for text, chans in zip(ann.description, ann.ch_names, strict=True):
        head, sep, channel = str(text).rpartition("@@")
        if sep and channel in names:
            texts.append(head)
            channels.append(tuple(chans) + (channel,))
        else:
            texts.append(str(text))
            channels.append(tuple(chans))
    raw.set_annotations(mne.Annotations(ann.onset, ann.duration, texts, orig_time=ann.orig_time,
                                        ch_names=channels), emit_warning=False)


def _read_edf(path: Path, preload: bool, _units: str | None) -> mne.io.BaseRaw:
    return _read_edf_like(path, preload, bdf=False)


def _read_bdf(path: Path, preload: bool, _units: str | None) -> mne.io.BaseRaw:
    return _read_edf_like(path, preload, bdf=True)


def _read_fif(path: Path, preload: bool, _units: str | None) -> mne.io.BaseRaw:
    if not path.suffix:  # MNE's FIF reader cannot open a name without an extension
        raise RecordingError(path, "looks like a FIF file but has no extension; "
                             "rename it to end in .fif")
    try:
        raw = mne.io.read_raw_fif(path, preload=preload, verbose="error")
    except Exception as exc:  # whatever MNE trips on, the user gets one line naming the file
        raise RecordingError(path, f"not a readable FIF file "
                             f"({' '.join(str(exc).split())})") from None
    return raw


def _emg_picks(raw: mne.io.BaseRaw) -> list[int]:
    """The channels :func:`open_recording` gives type EMG (:func:`_as_emg`: those a FIF types
    EMG, or else all but stim channels), but those marked bad: the channels analysed unless
    others are named.

    A bad channel may hold NaN all through (a dead electrode); the others' time is not lost.
    """
    types = raw.get_channel_types()
    typed = "emg" in types
    return [i for i, (name, kind) in enumerate(zip(raw.ch_names, types, strict=True))
            if (kind == "emg" if typed else kind not in _NON_DATA_TYPES)
            and name not in raw.info["bads"]]


def _read_wfdb(path: Path, preload: bool, _units: str | None) -> mne.io.BaseRaw:
    return _wfdb.RawWFDB(path, preload=preload)


def _read_opensignals(path: Path, _preload: bool, _units: str | None) -> mne.io.BaseRaw:
    return _text_formats.read_opensignals(path)


def _read_csv(path: Path, _preload: bool, units: str | None) -> mne.io.BaseRaw:
    return _csv.read_csv(path, units)


_READERS: dict[str, Callable[[Path, bool, str | None], mne.io.BaseRaw]] = {
    "edf": _read_edf,
    "bdf": _read_bdf,
    "fif": _read_fif,
    "wfdb": _read_wfdb,
    "opensignals": _read_opensignals,
    "csv": _read_csv,
}


def _as_emg(raw: mne.io.BaseRaw, keep_typed: bool = False) -> mne.io.BaseRaw:
    """Give every data channel the type 'emg' (stim channels stay as they are).

    With ``keep_typed`` (a FIF file, whose channel types are the file's own, or an EDF/BDF typed
    by its labels), a file that types some of its channels 'emg' has said which are EMG: its
    other channels keep their types.
    """
    types = raw.get_channel_types()
    if keep_typed and "emg" in types:
        return raw
    change = {n: "emg" for n, t in zip(raw.ch_names, types, strict=True)
              if t != "emg" and t not in _NON_DATA_TYPES}
    if change:
        raw.set_channel_types(change, on_unit_change="ignore", verbose="error")
    return raw
