"""WFDB records (PhysioNet ``.hea`` header + signal files) as a lazy MNE Raw, through ``wfdb``.

PhysioNet's own library parses the header and decodes every storage format it writes (8, 16, 24,
32, 61, 80, 160, 212, 310, 311 and the FLAC formats 508, 516, 524). Samples are read on demand with
``wfdb.rdrecord(sampfrom=, sampto=)``, so a slice costs memory for that slice only. The checksum of
every signal (sum of its samples modulo 2**16) is verified block by block when the record is
opened, so a corrupted file is refused without holding it in memory. A sample stored as its
format's invalid value was not taken: NaN (lost), and where any signal has one, lost time
annotated ``BAD_ACQ_SKIP``, as NaN on any channel is in every format.

``wfdb`` is the optional extra ``calfwatch[wfdb]``; without it a WFDB record is refused with one
line naming the extra.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import mne
import numpy as np

from acquisition.errors import RecordingError

#: Volts per unit for the physical units a WFDB header may state (case-insensitive).
_VOLTS_PER_UNIT = {"v": 1.0, "mv": 1e-3, "uv": 1e-6, "µv": 1e-6, "μv": 1e-6, "nv": 1e-9}
#: Bytes per sample of the uncompressed formats (to tell a truncated file from its size).
_BYTES_PER_SAMPLE = {"8": 1, "16": 2, "61": 2, "80": 1, "160": 2, "212": 1.5, "24": 3, "32": 4,
                     "310": 4 / 3, "311": 4 / 3}
#: FLAC-compressed formats (read through soundfile, which wfdb uses).
_FLAC_FORMATS = ("508", "516", "524")
#: Frames summed at once when verifying checksums.
_CHECKSUM_BLOCK_FRAMES = 1 << 20
#: The value a format stores for a sample that was not taken ("invalid", the format's most
#: negative number; WFDB signal(5) manual, as ``wfdb.rdrecord`` reads it back as NaN); format 8
#: (first differences) has none.
INVALID_COUNTS = {"80": -(2**7), "508": -(2**7), "310": -(2**9), "311": -(2**9),
                  "212": -(2**11), "16": -(2**15), "61": -(2**15), "160": -(2**15),
                  "516": -(2**15), "24": -(2**23), "524": -(2**23), "32": -(2**31)}
#: A number at the start of a header field (the ADC gain before its baseline and units).
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
#: Description of a span where a signal has no valid sample (beside ``BAD_ACQ_SKIP``).
INVALID_GAP_TEXT = "acquisition gap: invalid samples"


def _wfdb():
    try:
        import wfdb
    except ImportError:
        return None
    return wfdb


def header_path_for(path: Path) -> Path | None:
    """The ``.hea`` file of a record given as ``.hea``, ``.dat`` or bare record name, or None."""
    if path.suffix.lower() == ".hea":
        return path if path.is_file() else None
    candidates = [path.with_suffix(".hea"), path.parent / (path.name + ".hea")]
    return next((c for c in candidates if c.is_file()), None)


def _record_name(hea: Path) -> str:
    return str(hea.with_suffix(""))


def _read_header(hea: Path):
    wfdb = _wfdb()
    if wfdb is None:
        raise RecordingError(hea, "reading WFDB records needs the optional extra 'wfdb' "
                             "(pip install 'calfwatch[wfdb]')")
    try:
        header = wfdb.rdheader(_record_name(hea))
    except Exception as exc:  # whatever wfdb trips on, the user gets one line naming the file
        raise RecordingError(hea, f"not a readable WFDB header ({' '.join(str(exc).split())})"
                             ) from None
    if isinstance(header, wfdb.MultiRecord) or getattr(header, "seg_name", None):
        raise RecordingError(hea, "multi-segment WFDB records are not supported")
    if not header.n_sig:
        raise RecordingError(hea, "the record has no signals")
    return header


def _check_stated(hea: Path, header) -> None:
    """Refuse what wfdb would fill with header(5) defaults: the rate (250 Hz) and the gain (200).

    calfwatch analyses only what the file states.
    """
    try:
        text = hea.read_text(encoding="latin-1")
    except OSError as exc:
        raise RecordingError(hea, f"cannot read the header ({exc.strerror or exc})") from None
    lines = [ln.split("#", 1)[0].split() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    if len(lines[0]) < 3:
        raise RecordingError(hea, "sampling frequency missing from the record line")
    if len(lines[0]) < 4:  # wfdb reads such a record whole only, never a slice of it
        raise RecordingError(hea, "number of samples missing from the record line (needed to "
                                  "read the record in parts)")
    if len(lines) - 1 < header.n_sig:
        raise RecordingError(hea, f"the record line states {header.n_sig} signals but "
                                  f"{len(lines) - 1} signal lines follow")
    for i, fields in enumerate(lines[1 : 1 + header.n_sig]):
        if len(fields) < 3:
            raise RecordingError(hea, f"signal {i}: no ADC gain (uncalibrated signal)")
        if _stated_gain(fields[2]) == 0:  # wfdb reads it as 200 (header(5)'s default)
            raise RecordingError(hea, f"signal {i}: ADC gain 0 (uncalibrated signal)")


def _stated_gain(field: str) -> float | None:
    """The ADC gain a signal line's gain field (``2000(0)/mV``, ``0/mV``, ``200``) states, None
    when it starts with no number (left to wfdb, which refuses it).

    header(5): "If the gain is zero or missing, this indicates that the signal amplitude is
    uncalibrated"; ``wfdb.rdheader`` gives both as 200, the value the manual says "may be
    assumed": calfwatch reads the field itself and assumes nothing.

    Examples
    --------
    >>> _stated_gain("0/mV"), _stated_gain("0.0(5)/uV"), _stated_gain("2000.0(0)/mV")
    (0.0, 0.0, 2000.0)
    """
    match = _NUMBER.match(field)
    return float(match.group()) if match else None


def _check_signals(hea: Path, header) -> None:
    """Refuse what calfwatch cannot analyse: no gain, non-voltage units, multi-frequency."""
    for i in range(header.n_sig):
        if not header.adc_gain[i]:
            raise RecordingError(hea, f"signal {i}: no ADC gain (uncalibrated signal)")
        units = header.units[i] or "mV"  # the header(5) default
        if units.lower() not in _VOLTS_PER_UNIT:
            raise RecordingError(hea, f"signal {i}: units '{units}' are not a voltage")
        if (header.samps_per_frame[i] or 1) != 1:
            raise RecordingError(hea, f"signal {i}: multi-frequency signals are not supported")


def _frames_in(dat: Path, fmt: str, n_in_file: int, byte_offset: int) -> int:
    if fmt in _FLAC_FORMATS:
        import soundfile

        return int(soundfile.info(str(dat)).frames)
    size = max(dat.stat().st_size - byte_offset, 0)
    return int(size // (_BYTES_PER_SAMPLE.get(fmt, 2) * n_in_file))


def _check_files(hea: Path, header) -> int:
    """Every signal file is there and long enough; return the number of samples per signal."""
    counts: dict[str, int] = {}
    for name in header.file_name:
        counts[name] = counts.get(name, 0) + 1
    available = []
    for i, name in enumerate(header.file_name):
        dat = hea.parent / name
        if not dat.is_file():
            raise RecordingError(dat, "signal file named in the WFDB header is missing")
        if dat.stat().st_size == 0:
            raise RecordingError(dat, "empty file")
        offset = (header.byte_offset[i] or 0) if header.byte_offset else 0
        n = _frames_in(dat, str(header.fmt[i]), counts[name], offset)
        if header.sig_len and n < header.sig_len:
            raise RecordingError(dat, f"truncated: {n} samples per signal but the header says "
                                 f"{header.sig_len}")
        available.append(n)
    return int(header.sig_len or min(available))


def _digital(hea: Path, start: int, stop: int, channels: list[int] | None = None) -> np.ndarray:
    """Samples ``start:stop`` as stored (ADC counts), shape ``(n_channels, stop - start)``."""
    try:
        record = _wfdb().rdrecord(_record_name(hea), sampfrom=start, sampto=stop,
                                  channels=channels, physical=False, return_res=32)
    except Exception as exc:  # whatever wfdb trips on, the user gets one line naming the file
        raise RecordingError(hea, f"cannot read samples {start}-{stop} "
                             f"({' '.join(str(exc).split())})") from None
    return np.asarray(record.d_signal, dtype=np.int64).T


def _scan(hea: Path, header, n_samples: int, invalid: np.ndarray) -> list[tuple[int, int]]:
    """Read the record block by block: verify each signal's checksum (sum modulo 2**16) and
    return the ``(start, stop)`` spans where any signal holds its format's invalid value (lost
    time, as NaN on any channel is in every format: :mod:`acquisition.lost_time`).

    The header(5) manual states a 16-bit checksum; writers store it signed or unsigned, so both
    sides are compared as residues modulo 2**16.
    """
    sums = np.zeros(header.n_sig, np.int64)
    lost = np.zeros(0, bool)
    for start in range(0, n_samples, _CHECKSUM_BLOCK_FRAMES):
        block = _digital(hea, start, min(start + _CHECKSUM_BLOCK_FRAMES, n_samples))
        sums += block.sum(axis=1)
        lost = np.concatenate([lost, np.any(block == invalid[:, None], axis=0)])
    for i, (total, expected) in enumerate(zip(sums, header.checksum or [], strict=False)):
        if expected is not None and int(total) % 65536 != int(expected) % 65536:
            got = int((total + 32768) % 65536 - 32768)
            raise RecordingError(hea.parent / header.file_name[i],
                                 f"checksum mismatch on signal {i} ('{header.sig_name[i]}'): "
                                 f"data sum {got}, header {expected}")
    edges = np.flatnonzero(np.diff(np.concatenate([[0], lost.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _meas_date(header) -> datetime | None:
    """Base date and time of the record; None unless both are stated (nothing invented)."""
    if header.base_date is None or header.base_time is None:
        return None
    return datetime.combine(header.base_date, header.base_time).replace(tzinfo=UTC)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return out


class RawWFDB(mne.io.BaseRaw):
    """A WFDB record read lazily: samples come from the signal file(s) when asked for.

    Parameters
    ----------
    hea : pathlib.Path
        The record's header file.
    preload : bool
        Load all samples into memory now.

    Raises
    ------
    RecordingError
        ``wfdb`` is not installed, the header or a signal file is missing, malformed, truncated
        or fails its checksum, or a signal is not a calibrated voltage.
    """

    def __init__(self, hea: Path, preload: bool = False) -> None:
        header = _read_header(hea)
        _check_stated(hea, header)
        _check_signals(hea, header)
        n_samples = _check_files(hea, header)
        if n_samples == 0:
            raise RecordingError(hea, "the record has no samples")
        invalid = np.array([INVALID_COUNTS.get(str(f), np.iinfo(np.int64).min)
                            for f in header.fmt], np.int64)
        gaps = _scan(hea, header, n_samples, invalid)
        names = _unique([str(n or f"sig{i}") for i, n in enumerate(header.sig_name)])
        units = [u or "mV" for u in header.units]
        info = mne.create_info(names, float(header.fs), "emg")
        with info._unlock():
            info["meas_date"] = _meas_date(header)
        extras = {
            "hea": hea,
            "baselines": np.array(header.baseline, np.float64),
            "volts_per_count": np.array([_VOLTS_PER_UNIT[u.lower()] / g
                                         for u, g in zip(units, header.adc_gain, strict=True)]),
            "invalid": invalid,
        }
        super().__init__(
            info, preload=preload, first_samps=[0], last_samps=[n_samples - 1],
            filenames=[hea], raw_extras=[extras], orig_format="double",
            orig_units=dict(zip(names, units, strict=True)), verbose="error",
        )
        if gaps:  # lost time at its place, as the other readers mark it
            from acquisition.edf.constants import GAP_TEXT

            onset_s = np.repeat([a / info["sfreq"] for a, _ in gaps], 2)
            duration_s = np.repeat([(b - a) / info["sfreq"] for a, b in gaps], 2)
            self.set_annotations(mne.Annotations(onset_s, duration_s,
                                                 [GAP_TEXT, INVALID_GAP_TEXT] * len(gaps)))

    def _read_segment_file(self, data, idx, fi, start, stop, cals, mult):
        extras = self._raw_extras[fi]
        counts = _digital(extras["hea"], start, stop)
        volts = (counts - extras["baselines"][:, None]) * extras["volts_per_count"][:, None]
        volts[counts == extras["invalid"][:, None]] = np.nan  # a sample not taken: lost
        volts *= cals  # 1 for every channel (ch["cal"] = ch["range"] = 1): kept for MNE's contract
        if mult is not None:
            data[:] = mult @ volts
        else:
            data[:] = volts[idx]
