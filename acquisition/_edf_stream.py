"""Constant-memory reading of EDF/EDF+/BDF/BDF+ for replay: slices of samples and the gap annotations.

MNE's EDF reader, even with ``preload=False``, reads the annotation signal of every record at open and
needs about twice the file size in memory; an 8-hour recording at 2 kHz does not fit the replay's
budget that way. :class:`EdfStream` reads only the records a slice needs, and scans the annotations
record block by record block, keeping only the ``BAD_ACQ_SKIP`` spans. Physical values follow the EDF
formula MNE uses: ``(digital - dmin) * (pmax - pmin) / (dmax - dmin) + pmin``.

Files with different sample rates per data signal are not handled here (the replay falls back to
the general reader for them).
"""

from __future__ import annotations

import math
import os
import re
from datetime import UTC, datetime, timedelta

import numpy as np

from acquisition import _edf_header as hdr
from acquisition._edf_labels import channel_names
from acquisition.errors import RecordingError

_ANNOTATION_LABELS = ("EDF Annotations", "BDF Annotations")
#: Records read at once when scanning annotations (bounded temporary memory).
_SCAN_RECORDS = 256
_TAL = re.compile(rb"([+-]\d+(?:\.\d*)?)(?:\x15(\d+(?:\.\d*)?))?\x14(.*?)\x14\x00", re.DOTALL)
_FIELD_WIDTHS = (16, 80, 8, 8, 8, 8, 8, 80, 8, 32)


class UnsupportedEdf(ValueError):
    """The file is EDF/BDF but not in a form this reader handles (mixed rates)."""


class BadEdfHeader(RecordingError):
    """The file is EDF/BDF but its header holds values that cannot be right: refused, naming the
    file, rather than read by a more lenient reader that would guess (a 1970 start, an inverted
    polarity, a division by zero)."""


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def check_header(path: str, fixed: bytes, fields: list[list[str]], data: list[int]) -> None:
    """Raise :class:`BadEdfHeader` for a record duration, scaling or start that cannot be right."""
    record_text = fixed[244:252].decode("latin-1").strip()
    record_s = _number(record_text)
    if not (math.isfinite(record_s) and record_s > 0):
        raise BadEdfHeader(path, f"data record duration {record_text!r} is not a positive number "
                                 f"of seconds")
    labels, _, _, pmin, pmax, dmin, dmax, _, _, _ = fields
    for i in data:
        lo, hi = _number(dmin[i]), _number(dmax[i])
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise BadEdfHeader(path, f"signal {labels[i]!r}: digital minimum {dmin[i]!r} is not "
                                     f"below its maximum {dmax[i]!r}")
        lo, hi = _number(pmin[i]), _number(pmax[i])
        if not (math.isfinite(lo) and math.isfinite(hi) and lo != hi):
            raise BadEdfHeader(path, f"signal {labels[i]!r}: physical range {pmin[i]!r} to "
                                     f"{pmax[i]!r} is not two different numbers")
    try:
        _start_date(fixed)
    except (ValueError, UnicodeDecodeError):
        date, clock = fixed[168:176].decode("latin-1"), fixed[176:184].decode("latin-1")
        raise BadEdfHeader(path, f"start date and time {date!r} {clock!r} are not a valid date "
                                 f"(dd.mm.yy hh.mm.ss)") from None


def signal_rates_hz(path: str | os.PathLike) -> list[tuple[str, float]]:
    """``(label, sampling rate)`` of each signal of an EDF/BDF file but the annotation signal."""
    layout = hdr.read_layout(path)
    with open(path, "rb") as fid:
        fixed = fid.read(256)
        rest = fid.read(layout.header_bytes - 256)
    fields = _fields(rest, layout.n_signals)
    record_s = _number(fixed[244:252].decode("latin-1").strip())
    return [(label, int(spr) / record_s) for label, spr in zip(fields[0], fields[8], strict=True)
            if label not in _ANNOTATION_LABELS]


def _fields(rest: bytes, n_signals: int) -> list[list[str]]:
    out, pos = [], 0
    for width in _FIELD_WIDTHS:
        out.append(
            [rest[pos + width * i : pos + width * (i + 1)].decode("latin-1").strip() for i in range(n_signals)]
        )
        pos += width * n_signals
    return out


def _layout(path: str) -> hdr.HeaderLayout:
    """The header layout; a file named .edf/.bdf whose version field is neither EDF's nor BDF's
    is refused here (the general reader would read it anyway)."""
    try:
        return hdr.read_layout(path)
    except ValueError as exc:
        if "version field" in str(exc) and path.lower().endswith((".edf", ".bdf")):
            raise BadEdfHeader(path, "version field is neither EDF's '0' nor BDF's "
                                     "'\\xffBIOSEMI'") from None
        raise


def _start_date(fixed: bytes) -> datetime:
    day, month, year = (int(v) for v in fixed[168:176].decode("ascii").split("."))
    hour, minute, second = (int(v) for v in fixed[176:184].decode("ascii").split("."))
    year += 1900 if year >= 85 else 2000
    recording = fixed[88:168].decode("latin-1")
    match = re.search(r"Startdate \d\d-[A-Z]{3}-(\d{4})", recording)
    if match:
        year = int(match.group(1))
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


class EdfStream:
    """Slices of an EDF/BDF file in µV, read on demand.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Raises
    ------
    ValueError
        Not an EDF/BDF file; :class:`UnsupportedEdf` for mixed sample rates.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        layout = _layout(self.path)
        self.bdf = layout.bdf
        self._bps = 3 if self.bdf else 2
        with open(self.path, "rb") as fid:
            fixed = fid.read(256)
            rest = fid.read(layout.header_bytes - 256)
        fields = _fields(rest, layout.n_signals)
        labels, _, units, pmin, pmax, dmin, dmax, _, spr, _ = fields
        spr_n = [int(v) for v in spr]
        self._ann = [i for i, lab in enumerate(labels) if lab in _ANNOTATION_LABELS]
        # signals not in a voltage unit are left out, as the general reader does
        self._data = [i for i in range(layout.n_signals)
                      if i not in self._ann and units[i].strip() in _UV_PER_UNIT]
        if not self._data:
            raise UnsupportedEdf(f"{self.path}: no data signal")
        check_header(self.path, fixed, fields, self._data)
        if len({spr_n[i] for i in self._data}) != 1:
            raise UnsupportedEdf(f"{self.path}: data signals with different sample rates")
        self.spr = spr_n[self._data[0]]
        self.record_s = float(fixed[244:252].decode("ascii").strip())
        self.sfreq_hz = self.spr / self.record_s
        self.ch_names = channel_names([labels[i] for i in self._data])
        pmin_a = np.array([float(pmin[i]) for i in self._data])
        pmax_a = np.array([float(pmax[i]) for i in self._data])
        dmin_a = np.array([float(dmin[i]) for i in self._data])
        dmax_a = np.array([float(dmax[i]) for i in self._data])
        self._cal = ((pmax_a - pmin_a) / (dmax_a - dmin_a))[:, None]
        self._off = (pmin_a - dmin_a * self._cal[:, 0])[:, None]
        self._unit_uv = np.array([_unit_to_uv(units[i]) for i in self._data])[:, None]
        self.uv_per_count = float(self._cal[0, 0] * self._unit_uv[0, 0])
        self._header_bytes = layout.header_bytes
        self._record_bytes = layout.record_bytes
        size = os.path.getsize(self.path)
        self.n_records = max(0, (size - layout.header_bytes) // layout.record_bytes)
        if layout.n_records != -1 and self.n_records < layout.n_records:
            # Cut short with a positive count: the general reader refuses it, naming the file.
            raise UnsupportedEdf(f"{self.path}: {self.n_records} of {layout.n_records} records")
        self.n_times = self.n_records * self.spr
        offsets = np.cumsum([0] + [spr_n[i] * self._bps for i in range(layout.n_signals)])
        self._sig_bytes = [(int(offsets[i]), int(offsets[i + 1])) for i in range(layout.n_signals)]
        start = _start_date(fixed)
        self._tk0 = self._first_timekeeping() if self._ann else 0.0
        self.meas_date = start if not self._tk0 else _add_seconds(start, self._tk0)

    # ---------------------------------------------------------------------------------- samples
    def _records(self, r0: int, r1: int) -> np.ndarray:
        count = (r1 - r0) * self._record_bytes
        with open(self.path, "rb") as fid:
            fid.seek(self._header_bytes + r0 * self._record_bytes)
            raw = np.frombuffer(fid.read(count), dtype=np.uint8)
        return raw.reshape(r1 - r0, self._record_bytes)

    def _digital(self, block: np.ndarray, signal: int) -> np.ndarray:
        a, b = self._sig_bytes[signal]
        part = np.ascontiguousarray(block[:, a:b])
        if not self.bdf:
            return part.view("<i2").reshape(-1).astype(np.int32)
        b3 = part.reshape(-1, 3).astype(np.int32)
        value = b3[:, 0] | (b3[:, 1] << 8) | (b3[:, 2] << 16)
        return np.where(value >= 1 << 23, value - (1 << 24), value)

    def get_uv(self, start: int, stop: int) -> np.ndarray:
        """Samples ``start:stop`` of every data signal in µV, shape ``(n_channels, stop - start)``."""
        start, stop = max(0, int(start)), min(self.n_times, int(stop))
        if stop <= start:
            return np.zeros((len(self._data), 0))
        r0, r1 = start // self.spr, -(-stop // self.spr)
        block = self._records(r0, r1)
        digital = np.stack([self._digital(block, s) for s in self._data])
        lo = start - r0 * self.spr
        phys = digital[:, lo : lo + (stop - start)] * self._cal + self._off
        return phys * self._unit_uv

    # ------------------------------------------------------------------------------ annotations
    def _ann_bytes(self, block: np.ndarray) -> list[bytes]:
        out = []
        for row in block:
            out.append(b"".join(row[slice(*self._sig_bytes[s])].tobytes() for s in self._ann))
        return out

    def _first_timekeeping(self) -> float:
        if self.n_records == 0:
            return 0.0
        match = _TAL.search(self._ann_bytes(self._records(0, 1))[0])
        return float(match.group(1)) if match else 0.0

    def annotations(self, prefix: str = "") -> list[tuple[float, float, str]]:
        """``(onset_s, duration_s, text)`` of the annotations whose text starts with ``prefix``,
        onsets in seconds from the first sample; read record block by record block."""
        found = []
        want = prefix.encode("utf-8")
        for r0 in range(0, self.n_records, _SCAN_RECORDS):
            r1 = min(self.n_records, r0 + _SCAN_RECORDS)
            for record in self._ann_bytes(self._records(r0, r1)):
                for match in _TAL.finditer(record):
                    texts = [t for t in match.group(3).split(b"\x14") if t]
                    for text in texts:
                        if text.startswith(want):
                            onset = float(match.group(1)) - self._tk0
                            duration = float(match.group(2)) if match.group(2) else 0.0
                            found.append((onset, duration, text.decode("utf-8", "replace")))
        return found

    def gap_spans(self, text: str) -> list[tuple[int, int]]:
        """Sample spans ``[start, stop)`` annotated ``text``, merged and clipped to the data."""
        spans: list[tuple[int, int]] = []
        items = sorted(
            (int(round(o * self.sfreq_hz)), int(round((o + d) * self.sfreq_hz)))
            for o, d, t in self.annotations(text)
            if t == text
        )
        for a, b in items:
            a, b = max(0, a), min(self.n_times, b)
            if b <= a:
                continue
            if spans and a <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], b))
            else:
                spans.append((a, b))
        return spans


#: µV per physical unit of the voltage dimensions read here.
_UV_PER_UNIT = {"V": 1e6, "mV": 1e3, "uV": 1.0, "\u00b5V": 1.0, "\u03bcV": 1.0, "\x83\xcaV": 1.0}


def _unit_to_uv(unit: str) -> float:
    """µV per physical unit; an unknown unit is left to the general reader, which refuses it."""
    scale = _UV_PER_UNIT.get(unit.strip())
    if scale is None:
        raise UnsupportedEdf(f"unknown physical dimension {unit.strip()!r}")
    return scale


def _add_seconds(start: datetime, seconds: float) -> datetime:
    return start + timedelta(seconds=seconds)
