"""WFDB records (PhysioNet ``.hea`` header + ``.dat`` signal files) as a lazy MNE Raw.

The header format is the one of the WFDB "header(5)" manual page: a record line
``name n_signals fs n_samples [base_time [base_date]]`` then one line per signal
``file format[+byte_offset] gain[(baseline)][/units] adc_resolution adc_zero initial_value checksum
block_size description``. Physical value = (adc - baseline) / gain, in ``units``.

Samples are read on demand from an ``np.memmap`` of the signal file; the checksum of every signal
(sum of all its samples modulo 2**16, as a signed 16-bit number) is verified block by block when the
record is opened, so a corrupted file is refused without holding it in memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import mne
import numpy as np
from mne._fiff.utils import _mult_cal_one

from acquisition.errors import RecordingError

#: Volts per unit for the physical units a WFDB header may state (case-insensitive).
_VOLTS_PER_UNIT = {"v": 1.0, "mv": 1e-3, "uv": 1e-6, "µv": 1e-6, "μv": 1e-6, "nv": 1e-9}

#: Bytes per sample of the byte-aligned formats: format -> (numpy dtype, offset subtracted).
_FIXED_FORMATS = {
    "16": ("<i2", 0),
    "61": (">i2", 0),
    "80": ("u1", 128),
    "160": ("<u2", 32768),
    "32": ("<i4", 0),
}
#: Formats read here (212 packs two 12-bit samples in three bytes; 24 is 3-byte little-endian).
SUPPORTED_FORMATS = (*_FIXED_FORMATS, "212", "24")

_CHECKSUM_BLOCK_FRAMES = 1 << 20
_SIGNAL_RE = re.compile(
    r"^(?P<fmt>\d+)(?:x(?P<spf>\d+))?(?::(?P<skew>\d+))?(?:\+(?P<offset>\d+))?$"
)
_GAIN_RE = re.compile(r"^(?P<gain>[-+0-9.eE]+)(?:\((?P<baseline>-?\d+)\))?(?:/(?P<units>\S+))?$")


@dataclass(frozen=True)
class WfdbSignal:
    """One signal line of a WFDB header."""

    file_name: str
    fmt: str
    byte_offset: int
    gain: float
    baseline: int
    units: str
    initial_value: int | None
    checksum: int | None
    name: str


@dataclass(frozen=True)
class WfdbHeader:
    """The parts of a WFDB header calfwatch uses."""

    record: str
    sfreq_hz: float
    n_samples: int | None
    meas_date: datetime | None
    signals: tuple[WfdbSignal, ...]


def header_path_for(path: Path) -> Path | None:
    """The ``.hea`` file of a record given as ``.hea``, ``.dat`` or bare record name, or None."""
    if path.suffix.lower() == ".hea":
        return path if path.is_file() else None
    candidates = [path.with_suffix(".hea"), path.parent / (path.name + ".hea")]
    return next((c for c in candidates if c.is_file()), None)


def _lines(hea: Path) -> list[str]:
    try:
        text = hea.read_text(encoding="latin-1")
    except OSError as exc:
        raise RecordingError(hea, f"cannot read the header ({exc.strerror or exc})") from None
    lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
    return [ln for ln in lines if ln]


def _meas_date(hea: Path, fields: list[str]) -> datetime | None:
    """Base time and date from the record line; None unless both are there (nothing invented)."""
    if len(fields) < 6:
        return None
    try:
        clock = datetime.strptime(fields[4].split(".")[0], "%H:%M:%S").time()
        day = datetime.strptime(fields[5], "%d/%m/%Y").date()
    except ValueError:
        raise RecordingError(hea, f"bad base time/date '{fields[4]} {fields[5]}'") from None
    return datetime.combine(day, clock, tzinfo=UTC)


def _record_line(hea: Path, line: str) -> tuple[str, int, float, int | None, datetime | None]:
    fields = line.split()
    if len(fields) < 2 or not fields[1].isdigit():
        raise RecordingError(hea, f"not a WFDB header: bad record line '{line}'")
    if "/" in fields[0]:
        raise RecordingError(hea, "multi-segment WFDB records are not supported")
    if len(fields) < 3:
        raise RecordingError(hea, "sampling frequency missing from the record line")
    match = re.match(r"^[0-9.eE+-]+", fields[2])
    try:
        sfreq_hz = float(match.group(0)) if match else float("nan")
    except ValueError:
        sfreq_hz = float("nan")
    if not np.isfinite(sfreq_hz) or sfreq_hz <= 0:
        raise RecordingError(hea, f"bad sampling frequency '{fields[2]}'")
    n_samples = int(fields[3]) if len(fields) > 3 and fields[3].isdigit() else None
    return fields[0], int(fields[1]), sfreq_hz, n_samples, _meas_date(hea, fields)


def _int_field(fields: list[str], i: int) -> int | None:
    if len(fields) > i and re.fullmatch(r"-?\d+", fields[i]):
        return int(fields[i])
    return None


def _signal_line(hea: Path, line: str, index: int) -> WfdbSignal:
    fields = line.split()
    if len(fields) < 3:
        raise RecordingError(hea, f"signal {index}: no ADC gain (uncalibrated signal)")
    fmt = _SIGNAL_RE.match(fields[1])
    if fmt is None:
        raise RecordingError(hea, f"signal {index}: bad format field '{fields[1]}'")
    if fmt["fmt"] not in SUPPORTED_FORMATS:
        raise RecordingError(hea, f"WFDB format {fmt['fmt']} is not supported "
                             f"(supported: {', '.join(SUPPORTED_FORMATS)})")
    if (fmt["spf"] and int(fmt["spf"]) != 1) or (fmt["skew"] and int(fmt["skew"]) != 0):
        raise RecordingError(hea, f"signal {index}: multi-frequency or skewed signals "
                             "are not supported")
    gain = _GAIN_RE.match(fields[2])
    if gain is None or float(gain["gain"]) == 0:
        raise RecordingError(hea, f"signal {index}: no ADC gain (uncalibrated signal)")
    adc_zero = _int_field(fields, 4) or 0
    baseline = int(gain["baseline"]) if gain["baseline"] is not None else adc_zero
    units = gain["units"] or "mV"  # the header(5) default
    if units.lower() not in _VOLTS_PER_UNIT:
        raise RecordingError(hea, f"signal {index}: units '{units}' are not a voltage")
    name = " ".join(fields[8:]) or f"sig{index}"
    return WfdbSignal(fields[0], fmt["fmt"], int(fmt["offset"] or 0), float(gain["gain"]),
                      baseline, units, _int_field(fields, 5), _int_field(fields, 6), name)


def parse_header(hea: Path) -> WfdbHeader:
    """Parse a WFDB header file.

    Raises
    ------
    RecordingError
        When the header is malformed or describes something this reader does not support.
    """
    lines = _lines(hea)
    if not lines:
        raise RecordingError(hea, "empty WFDB header")
    record, n_sig, sfreq_hz, n_samples, meas_date = _record_line(hea, lines[0])
    if n_sig < 1:
        raise RecordingError(hea, "the record has no signals")
    if len(lines) < 1 + n_sig:
        raise RecordingError(hea, f"header announces {n_sig} signals but has "
                             f"{len(lines) - 1} signal lines")
    signals = tuple(_signal_line(hea, lines[1 + i], i) for i in range(n_sig))
    return WfdbHeader(record, sfreq_hz, n_samples, meas_date, signals)


# --- sample decoding -----------------------------------------------------------------------------


def _bytes_per_sample(fmt: str) -> float:
    if fmt in _FIXED_FORMATS:
        return np.dtype(_FIXED_FORMATS[fmt][0]).itemsize
    return {"212": 1.5, "24": 3}[fmt]


def _decode(fmt: str, raw: np.ndarray, k0: int, k1: int) -> np.ndarray:
    """Samples ``k0..k1`` of the interleaved sample stream of one file, as int32.

    ``raw`` is the uint8 memmap of the file's data bytes (after the byte offset).
    """
    if fmt in _FIXED_FORMATS:
        dtype, shift = _FIXED_FORMATS[fmt]
        size = np.dtype(dtype).itemsize
        out = raw[k0 * size : k1 * size].view(dtype).astype(np.int32)
        return out - shift if shift else out
    if fmt == "24":
        b = raw[k0 * 3 : k1 * 3].reshape(-1, 3).astype(np.int32)
        out = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        return np.where(out >= 1 << 23, out - (1 << 24), out)
    return _decode_212(raw, k0, k1)


def _decode_212(raw: np.ndarray, k0: int, k1: int) -> np.ndarray:
    """Format 212: each pair of 12-bit samples packed in three bytes."""
    p0, p1 = k0 // 2, (k1 + 1) // 2
    chunk = np.zeros(3 * (p1 - p0), np.int32)
    got = raw[3 * p0 : 3 * p1]
    chunk[: got.size] = got
    b = chunk.reshape(-1, 3)
    first = b[:, 0] | ((b[:, 1] & 0x0F) << 8)
    second = b[:, 2] | ((b[:, 1] & 0xF0) << 4)
    pairs = np.stack([first, second], axis=1).reshape(-1)
    pairs = np.where(pairs >= 2048, pairs - 4096, pairs)
    start = k0 - 2 * p0
    return pairs[start : start + (k1 - k0)]


@dataclass(frozen=True)
class _DatFile:
    """One signal file of the record and where each of its signals sits in a frame."""

    path: str
    fmt: str
    byte_offset: int
    channels: tuple[int, ...]  # record channel index of each signal in the file, in frame order

    @property
    def n_per_frame(self) -> int:
        return len(self.channels)

    def frames_available(self) -> int:
        n_bytes = max(Path(self.path).stat().st_size - self.byte_offset, 0)
        return int(n_bytes // (_bytes_per_sample(self.fmt) * self.n_per_frame))

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start..stop`` as int32, shape ``(n_per_frame, stop - start)``."""
        raw = np.memmap(self.path, np.uint8, mode="r", offset=self.byte_offset)
        flat = _decode(self.fmt, raw, start * self.n_per_frame, stop * self.n_per_frame)
        return flat.reshape(-1, self.n_per_frame).T

    def sums(self, start: int, stop: int) -> np.ndarray:
        """Sum of each signal over frames ``start..stop`` (int64), without widening the block."""
        if self.fmt not in _FIXED_FORMATS:
            return self.read(start, stop).sum(axis=1, dtype=np.int64)
        dtype, shift = _FIXED_FORMATS[self.fmt]
        size, k = np.dtype(dtype).itemsize, self.n_per_frame
        raw = np.memmap(self.path, np.uint8, mode="r", offset=self.byte_offset)
        flat = raw[start * k * size : stop * k * size].view(dtype)
        return np.array([flat[j::k].sum(dtype=np.int64) - shift * (stop - start)
                         for j in range(k)], np.int64)


def _dat_files(hea: Path, header: WfdbHeader) -> list[_DatFile]:
    groups: dict[str, list[int]] = {}
    for i, sig in enumerate(header.signals):
        groups.setdefault(sig.file_name, []).append(i)
    files = []
    for name, chans in groups.items():
        first = header.signals[chans[0]]
        if any(header.signals[c].fmt != first.fmt for c in chans):
            raise RecordingError(hea, f"signals of '{name}' mix storage formats")
        dat = hea.parent / name
        if not dat.is_file():
            raise RecordingError(dat, "signal file named in the WFDB header is missing")
        if dat.stat().st_size == 0:
            raise RecordingError(dat, "empty file")
        files.append(_DatFile(str(dat), first.fmt, first.byte_offset, tuple(chans)))
    return files


def _check_length(header: WfdbHeader, files: list[_DatFile]) -> int:
    available = min(f.frames_available() for f in files)
    if header.n_samples is None:
        return available
    for f in files:
        if f.frames_available() < header.n_samples:
            raise RecordingError(f.path, f"truncated: {f.frames_available()} samples per signal "
                                 f"but the header says {header.n_samples}")
    return header.n_samples


def _verify_checksums(header: WfdbHeader, files: list[_DatFile], n_samples: int) -> None:
    """Sum every signal block by block and compare with the header (mod 2**16, signed)."""
    for f in files:
        sums = np.zeros(f.n_per_frame, np.int64)
        for start in range(0, n_samples, _CHECKSUM_BLOCK_FRAMES):
            sums += f.sums(start, min(start + _CHECKSUM_BLOCK_FRAMES, n_samples))
        for chan, total in zip(f.channels, sums, strict=True):
            expected = header.signals[chan].checksum
            got = int((total + 32768) % 65536 - 32768)
            if expected is not None and got != expected:
                raise RecordingError(f.path, f"checksum mismatch on signal {chan} "
                                     f"('{header.signals[chan].name}'): data sum {got}, "
                                     f"header {expected}")


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return out


class RawWFDB(mne.io.BaseRaw):
    """A WFDB record read lazily: samples come from the ``.dat`` file(s) when asked for.

    Parameters
    ----------
    hea : pathlib.Path
        The record's header file.
    preload : bool
        Load all samples into memory now.
    """

    def __init__(self, hea: Path, preload: bool = False) -> None:
        header = parse_header(hea)
        files = _dat_files(hea, header)
        n_samples = _check_length(header, files)
        if n_samples == 0:
            raise RecordingError(hea, "the record has no samples")
        _verify_checksums(header, files, n_samples)
        names = _unique([s.name for s in header.signals])
        info = mne.create_info(names, header.sfreq_hz, "emg")
        for ch, sig in zip(info["chs"], header.signals, strict=True):
            ch["cal"] = _VOLTS_PER_UNIT[sig.units.lower()] / sig.gain
            ch["range"] = 1.0
        with info._unlock():
            info["meas_date"] = header.meas_date
        extras = {
            "files": files,
            "baselines": np.array([s.baseline for s in header.signals], np.float64),
        }
        super().__init__(
            info, preload=preload, first_samps=[0], last_samps=[n_samples - 1],
            filenames=[hea], raw_extras=[extras], orig_format="int",
            orig_units={n: s.units for n, s in zip(names, header.signals, strict=True)},
            verbose="error",
        )

    def _read_segment_file(self, data, idx, fi, start, stop, cals, mult):
        extras = self._raw_extras[fi]
        counts = np.empty((len(extras["baselines"]), stop - start), np.float64)
        for f in extras["files"]:
            counts[list(f.channels)] = f.read(start, stop)
        counts -= extras["baselines"][:, None]
        _mult_cal_one(data, counts, idx, cals, mult)
