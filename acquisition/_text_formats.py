"""OpenSignals / BioSPPy "Simple Text Format" recordings (BITalino, biosignalsplux).

Text files are small by nature and are loaded whole; the Raw they give is always preloaded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import mne
import numpy as np

from acquisition._text_common import KEY_VALUE, numbers, read_lines, with_losses
from acquisition.errors import RecordingError

#: Columns of an OpenSignals file that are not an analog sensor: the sequence number and the
#: digital inputs and outputs (BITalino and biosignalsplux label them ``nSeq``, ``I1``, ``I2``,
#: ``O1``, ``O2``; the analog ones ``A1``... or by sensor).
_NOT_ANALOG = re.compile(r"nSeq|[IO]\d+", re.IGNORECASE)
#: BITalino EMG sensor: supply voltage (V) and gain of the sensor's amplifier.
BITALINO_VCC_V = 3.3
BITALINO_EMG_GAIN = 1009.0


# --- OpenSignals / BioSPPy simple text -----------------------------------------------------------


def _header_fields(lines: list[str]) -> dict[str, str]:
    fields = {}
    for line in lines:
        if not line.startswith("#"):
            break
        match = KEY_VALUE.match(line.strip())
        if match:
            fields[match["key"].strip().lower()] = match["value"].strip()
    return fields


def _header_number(path: Path, fields: dict[str, str], key: str, what: str) -> float:
    found = next((v for k, v in fields.items() if k.startswith(key)), None)
    if found is None:
        raise RecordingError(path, f"{what} missing from the header")
    try:
        value = float(found)
    except ValueError:
        raise RecordingError(path, f"bad {what} '{found}' in the header") from None
    if not np.isfinite(value) or value <= 0:
        raise RecordingError(path, f"bad {what} '{found}' in the header")
    return value


def bitalino_emg_volts(adc: np.ndarray, resolution_bits: int) -> np.ndarray:
    """Convert BITalino EMG sensor ADC counts to volts at the electrodes.

    EMG(V) = (ADC / 2**n - 1/2) * VCC / G_EMG, with n the ADC resolution in bits, VCC = 3.3 V and
    G_EMG = 1009 (BITalino EMG Sensor Data Sheet, PLUX Wireless Biosignals S.A.).
    """
    return (adc / 2.0**resolution_bits - 0.5) * BITALINO_VCC_V / BITALINO_EMG_GAIN


def read_opensignals(path: Path) -> mne.io.BaseRaw:
    """Read an OpenSignals text file: the BioSPPy "Simple Text Format" or the JSON-header format.

    Simple Text Format: header lines ``# Sampling Rate (Hz):= 1000.00``, ``# Resolution:= 12``,
    ``# Labels:= EMG`` (one label per column, separated by tabs or commas), then one column of
    ADC counts per channel; of those, the sequence number ``nSeq`` (where it jumps, samples were
    lost: lost time at their place, as in the JSON-header format) and the digital inputs and
    outputs (``I1``, ``O1``...) are not analysed. OpenSignals (r)evolution format: a ``# {...}``
    JSON header for one device (see :func:`_read_opensignals_json`). Counts are converted to
    volts with the BITalino EMG sensor transfer function (:func:`bitalino_emg_volts`). The whole file is loaded: text
    recordings are small by nature.
    """
    lines = read_lines(path)
    json_line = next((ln for ln in lines[:5] if ln.lstrip("# ").startswith("{")), None)
    if json_line is not None:
        return _read_opensignals_json(path, lines, json_line.lstrip("# "))
    fields = _header_fields(lines)
    sfreq_hz = _header_number(path, fields, "sampling rate", "sampling rate")
    bits = _header_number(path, fields, "resolution", "ADC resolution")
    if bits != int(bits) or bits > 32:
        raise RecordingError(path, f"bad ADC resolution {bits:g} in the header")
    counts = numbers(path, lines)
    labels = [s for s in re.split(r"[\t,;]+|\s{2,}", fields.get("labels", "")) if s]
    if len(labels) != counts.shape[1]:
        labels = [f"EMG{i + 1}" for i in range(counts.shape[1])] if counts.shape[1] > 1 else ["EMG"]
    analog = [col for col, label in enumerate(labels) if not _NOT_ANALOG.fullmatch(label)]
    if not analog:
        raise RecordingError(path, f"no analog channel (columns: {', '.join(labels)})")
    info = mne.create_info([labels[col] for col in analog], sfreq_hz, "emg")
    data_v = bitalino_emg_volts(counts[:, analog].T, int(bits))
    units = {name: "V" for name in info["ch_names"]}
    return with_losses((info, data_v, path, 0, units), _losses(counts, labels),
                       _seq_gap_text(sum(1 for ln in lines if ln.startswith("#"))))


def _device_header(path: Path, text: str) -> dict:
    try:
        header = json.loads(text)
    except ValueError:
        raise RecordingError(path, "unreadable OpenSignals JSON header") from None
    devices = list(header.values()) if isinstance(header, dict) else []
    if len(devices) != 1 or not isinstance(devices[0], dict):
        raise RecordingError(path, "OpenSignals files with several devices are not supported")
    return devices[0]


def _json_meas_date(path: Path, device: dict) -> datetime | None:
    if not device.get("date") or not device.get("time"):
        return None
    try:
        day = datetime.strptime(str(device["date"]), "%Y-%m-%d").date()
        clock = datetime.strptime(str(device["time"]).split(".")[0], "%H:%M:%S").time()
    except ValueError:
        raise RecordingError(path, f"bad date/time '{device['date']} {device['time']}'") from None
    return datetime.combine(day, clock, tzinfo=UTC)


def _json_bits(path: Path, bits: list, col: int) -> int:
    """The ADC resolution of column ``col`` from a JSON header: a whole number of 1-32 bits."""
    try:
        value = float(bits[col])
    except (IndexError, TypeError, ValueError):
        value = float("nan")
    if not (np.isfinite(value) and value == int(value) and 1 <= value <= 32):
        raise RecordingError(path, f"bad ADC resolution "
                             f"'{bits[col] if col < len(bits) else 'missing'}' in the header")
    return int(value)


#: Values of the sequence number (``nSeq``) of BITalino and biosignalsplux samples: 4 bits.
SEQ_MODULUS = 16
#: Text of the annotation beside each ``BAD_ACQ_SKIP`` a sequence jump makes.
SEQ_GAP_TEXT = "acquisition gap: sequence number jump"


def sequence_losses(seq: np.ndarray) -> np.ndarray:
    """Samples lost after each sample but the last, from the sequence numbers ``seq`` (which
    step by one modulo :data:`SEQ_MODULUS`): the fewest a jump can mean; a further multiple of
    16 may be lost too, which the file cannot tell. Bluetooth drops packets; Bitbrain's exporter
    fills such losses, found from the sequence numbers, with NaN the same way.

    Examples
    --------
    >>> sequence_losses(np.array([14, 15, 0, 3, 4, 4])).tolist()
    [0, 0, 2, 0, 15]
    """
    return (np.diff(np.asarray(seq, np.int64)) - 1) % SEQ_MODULUS


def _read_opensignals_json(path: Path, lines: list[str], text: str) -> mne.io.BaseRaw:
    """OpenSignals (r)evolution text: JSON header with ``column``, ``label``, ``sensor``,
    ``resolution`` (per column), ``sampling rate``, ``date`` and ``time``; columns ``nSeq``,
    digital I/O, then the analog channels. Only channels whose sensor is ``EMG`` are read (the
    transfer function is the EMG sensor's); where the sequence numbers jump, samples were lost:
    they are lost time at their place (:func:`with_losses`), not closed up.
    """
    device = _device_header(path, text)
    try:
        columns, labels = list(device["column"]), list(device["label"])
        sensors, bits = list(device["sensor"]), list(device["resolution"])
        sfreq_hz = float(device["sampling rate"])
    except (KeyError, TypeError, ValueError):
        raise RecordingError(path, "OpenSignals header lacks column, label, sensor, "
                             "resolution or sampling rate") from None
    if not (np.isfinite(sfreq_hz) and sfreq_hz > 0):
        raise RecordingError(path, f"bad sampling rate '{device['sampling rate']}' in the header")
    twice = sorted({str(c) for c in columns if columns.count(c) > 1} | {
        str(lab) for lab in labels if labels.count(lab) > 1})
    if twice:  # which column a label means would be a guess
        raise RecordingError(path, f"header names column '{twice[0]}' more than once")
    emg = [(lab, columns.index(lab)) for lab, sen in zip(labels, sensors, strict=False)
           if str(sen).upper().startswith("EMG") and lab in columns]
    if not emg:
        raise RecordingError(path, f"no EMG channel (sensors: {', '.join(map(str, sensors))})")
    values = numbers(path, lines)
    if values.shape[1] != len(columns):
        raise RecordingError(path, f"{values.shape[1]} columns of data but the header names "
                             f"{len(columns)}")
    n_header = sum(1 for ln in lines if ln.startswith("#"))
    data_v = np.vstack([bitalino_emg_volts(values[:, col], _json_bits(path, bits, col))
                        for _, col in emg])
    info = mne.create_info([lab for lab, _ in emg], sfreq_hz, "emg")
    with info._unlock():
        info["meas_date"] = _json_meas_date(path, device)
    units = {name: "V" for name in info["ch_names"]}
    return with_losses((info, data_v, path, 0, units), _losses(values, [str(c) for c in columns]),
                       _seq_gap_text(n_header))


def _losses(values: np.ndarray, columns: list[str]) -> np.ndarray:
    """Samples lost after each row of ``values`` (:func:`sequence_losses` of the ``nSeq``
    column; none without one)."""
    if "nSeq" not in columns:
        return np.zeros(len(values) - 1, np.int64)
    return sequence_losses(values[:, columns.index("nSeq")])


def _seq_gap_text(n_header: int) -> Callable[[int, int], str]:
    """What a loss of ``n`` samples after data row ``i`` was, for a file of ``n_header`` header
    lines."""

    def describe(i: int, n: int) -> str:
        return (f"{SEQ_GAP_TEXT} before line {i + n_header + 2}: {n} or {n} + {SEQ_MODULUS} x k "
                "samples")

    return describe
