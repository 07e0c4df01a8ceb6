"""Forty-six bad recording files: damaged EDF/BDF headers, truncated and garbled files of every format.

Each maker writes one file into a folder and returns its path. The base file is a valid EDF+ (or BDF+)
written by the project's own writer; each bad file changes one thing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from acquisition.edf.writer import EdfPlusWriter

FS = 1000.0
START = datetime(2026, 3, 1, 22, 30, 5, tzinfo=UTC)


def _valid(path: Path, fmt: str = "edf", seconds: int = 4, n_ch: int = 2) -> Path:
    rng = np.random.default_rng(0)
    with EdfPlusWriter(path, [f"calf{i}" for i in range(n_ch)], FS, START, fmt=fmt) as writer:
        writer.write(rng.normal(0, 20, (n_ch, int(FS * seconds))))
    return path


def _signal_field_offset(n_signals: int, field: int) -> int:
    widths = (16, 80, 8, 8, 8, 8, 8, 80, 8, 32)
    return 256 + sum(w * n_signals for w in widths[:field])


def _patch(path: Path, offset: int, text: str, width: int) -> Path:
    data = bytearray(path.read_bytes())
    data[offset : offset + width] = text.encode("latin-1").ljust(width)[:width]
    path.write_bytes(bytes(data))
    return path


def _fixed(name: str, offset: int, width: int, text: str, fmt: str = "edf"):
    def make(folder: Path) -> Path:
        return _patch(_valid(folder / f"{name}.{fmt}", fmt), offset, text, width)
    make.__name__ = name
    return make


def _signal(name: str, field: int, signal: int, text: str, fmt: str = "edf"):
    def make(folder: Path) -> Path:
        path = _valid(folder / f"{name}.{fmt}", fmt)
        n_signals = 3  # two channels and the annotation signal
        width = (16, 80, 8, 8, 8, 8, 8, 80, 8, 32)[field]
        return _patch(path, _signal_field_offset(n_signals, field) + width * signal, text, width)
    make.__name__ = name
    return make


def _bytes(name: str, suffix: str, content: bytes):
    def make(folder: Path) -> Path:
        path = folder / f"{name}{suffix}"
        path.write_bytes(content)
        return path
    make.__name__ = name
    return make


def _truncated(name: str, fmt: str, keep: int):
    def make(folder: Path) -> Path:
        path = _valid(folder / f"{name}.{fmt}", fmt)
        path.write_bytes(path.read_bytes()[:keep])
        return path
    make.__name__ = name
    return make


def _one_sample(folder: Path) -> Path:
    path = folder / "one_sample.edf"
    with EdfPlusWriter(path, ["calf"], FS, START, record_s=0.001) as writer:
        writer.write(np.zeros((1, 1)))
    return path


def _slow(folder: Path) -> Path:
    path = folder / "slow_250hz.edf"
    with EdfPlusWriter(path, ["calf"], 250.0, START) as writer:
        writer.write(np.zeros((1, 2500)))
    return path


def _mixed_rate(folder: Path) -> Path:
    """2000 Hz and 250 Hz EMG signals in one file (written with edfio)."""
    import edfio

    rng = np.random.default_rng(1)
    signals = [edfio.EdfSignal(rng.normal(0, 20, 20000), 2000, label="fast", physical_dimension="uV",
                               physical_range=(-5000, 5000)),
               edfio.EdfSignal(rng.normal(0, 20, 2500), 250, label="slow", physical_dimension="uV",
                               physical_range=(-5000, 5000))]
    path = folder / "mixed_rate_250hz.edf"
    edfio.Edf(signals).write(path)
    return path


def _fif_truncated(folder: Path) -> Path:
    import mne

    info = mne.create_info(["calf"], FS, "emg")
    raw = mne.io.RawArray(np.zeros((1, 4000)), info, verbose="error")
    path = folder / "truncated_raw.fif"
    raw.save(path, verbose="error")
    path.write_bytes(path.read_bytes()[:3000])
    return path


def _csv_values(name: str, value: str):
    """Four seconds of CSV noise whose 1500th sample of the calf channel is ``value``."""
    def make(folder: Path) -> Path:
        rng = np.random.default_rng(4)
        rows = [f"{i / FS:.3f},{v:.3f},{w:.3f}" for i, (v, w) in
                enumerate(rng.normal(0, 10, (int(4 * FS), 2)))]
        rows[1500] = f"{1500 / FS:.3f},{value},0.5"
        path = folder / f"{name}.csv"
        path.write_text("time,calf_uV,shin_uV\n" + "\n".join(rows) + "\n")
        return path
    make.__name__ = name
    return make


def _fif_inf(folder: Path) -> Path:
    """A FIF whose float samples hold an infinity (1e300 µV does not fit a float32)."""
    import mne

    info = mne.create_info(["calf"], FS, "emg")
    data_v = np.random.default_rng(5).normal(0, 1e-5, (1, 4000))
    data_v[0, 2000] = np.inf
    raw = mne.io.RawArray(data_v, info, verbose="error")
    path = folder / "inf_raw.fif"
    raw.save(path, verbose="error")
    return path


def _fif_garbage(folder: Path) -> Path:
    path = folder / "garbage_raw.fif"
    path.write_bytes(np.random.default_rng(2).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    return path


RECORD_S, N_RECORDS, N_SIGNALS, START_DATE, START_TIME, HEADER_BYTES = 244, 236, 252, 168, 176, 184
LABEL, TRANSDUCER, UNIT, PMIN, PMAX, DMIN, DMAX, PREFILTER, SPR = range(9)

MAKERS = [
    _fixed("record_duration_zero", RECORD_S, 8, "0"),
    _fixed("record_duration_nan", RECORD_S, 8, "nan"),
    _fixed("record_duration_negative", RECORD_S, 8, "-1"),
    _fixed("record_duration_inf", RECORD_S, 8, "inf"),
    _fixed("record_duration_text", RECORD_S, 8, "one"),
    _fixed("record_duration_zero_bdf", RECORD_S, 8, "0", "bdf"),
    _fixed("start_date_invalid", START_DATE, 8, "32.13.26"),
    _fixed("start_date_text", START_DATE, 8, "aa.bb.cc"),
    _fixed("start_time_invalid", START_TIME, 8, "25.61.61"),
    _fixed("start_date_invalid_bdf", START_DATE, 8, "31.02.26", "bdf"),
    _fixed("n_records_text", N_RECORDS, 8, "many"),
    _fixed("n_signals_zero", N_SIGNALS, 4, "0"),
    _fixed("n_signals_text", N_SIGNALS, 4, "two"),
    _fixed("n_signals_huge", N_SIGNALS, 4, "9999"),
    _fixed("header_bytes_wrong", HEADER_BYTES, 8, "300"),
    _fixed("version_wrong", 0, 8, "1"),
    _signal("digital_min_equals_max", DMIN, 0, "32767"),
    _signal("digital_min_above_max", DMIN, 1, "32767"),
    _signal("digital_max_text", DMAX, 0, "max"),
    _signal("physical_min_equals_max", PMIN, 0, "5000"),
    _signal("physical_max_nan", PMAX, 1, "nan"),
    _signal("physical_min_text", PMIN, 0, "low"),
    _signal("physical_min_huge", PMIN, 0, "-1e308"),  # samples of 1e300 µV: sums overflow
    _signal("physical_max_huge_bdf", PMAX, 1, "1e308", "bdf"),
    _signal("samples_per_record_zero", SPR, 0, "0"),
    _signal("samples_per_record_negative", SPR, 1, "-5"),
    _signal("samples_per_record_text", SPR, 0, "lots"),
    _signal("digital_min_above_max_bdf", DMIN, 0, "8388607", "bdf"),
    _truncated("truncated_in_header", "edf", 300),
    _truncated("truncated_fixed_header", "edf", 100),
    _truncated("no_records", "edf", 768),
    _bytes("empty", ".edf", b""),
    _bytes("random_bytes", ".edf", np.random.default_rng(3).integers(0, 256, 3000,
                                                                       dtype=np.uint8).tobytes()),
    _bytes("text_named_bdf", ".bdf", b"this is not a recording\n" * 40),
    _bytes("empty_csv", ".csv", b""),
    _bytes("csv_words", ".csv", b"time,calf\nzero,one\ntwo,three\n"),
    _bytes("csv_header_only", ".csv", b"time,calf_uV\n"),
    _one_sample,
    _slow,
    _mixed_rate,
    _fif_truncated,
    _fif_garbage,
    _csv_values("csv_inf", "inf"),
    _csv_values("csv_huge", "1e300"),  # overflowed the first sums of squares
    _bytes("csv_column_twice", ".csv", b"time,calf_uV,calf_uV\n0,1,2\n0.001,2,3\n"),
    _fif_inf,
]


def make_all(folder: Path) -> list[Path]:
    """Write every bad file into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    return [make(folder) for make in MAKERS]


def make_valid(folder: Path) -> Path:
    """A good recording to analyse between the bad ones."""
    folder.mkdir(parents=True, exist_ok=True)
    return _valid(folder / "good.edf", seconds=30)
