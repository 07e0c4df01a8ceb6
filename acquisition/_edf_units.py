"""Physical dimensions of EDF/BDF signals: which ones calfwatch reads, and which it leaves out.

Apart from :mod:`acquisition.reader` so that a file replayed record by record
(:mod:`acquisition.replay`) can name its left-out signals without importing MNE.
"""

from __future__ import annotations

import os
from pathlib import Path

from acquisition.errors import RecordingError

_EDF_MAGIC = b"0       "
_BDF_MAGIC = b"\xffBIOSEMI"
_EDF_FIXED_HEADER = 256

#: Physical dimensions MNE scales correctly (it reads any other as volts, silently).
EDF_VOLTAGE_UNITS = ("uV", "\u00b5V", "\u03bcV", "\x83\xcaV", "mV", "V")


def _edf_units(path: Path, labels: bytes, dimensions: bytes, n_signals: int) -> list[tuple[str, str]]:
    """Data signals whose physical dimension is not a voltage calfwatch can scale, as (label, unit).

    They are left out (a BioSemi ``Status`` channel, a sleep study's oxygen saturation in %); a
    file with no data signal in a voltage unit is refused.
    """
    odd, n_data = [], 0
    for i in range(n_signals):
        label = labels[16 * i : 16 * i + 16].decode("latin-1").strip()
        if label in ("EDF Annotations", "BDF Annotations"):
            continue
        n_data += 1
        unit = dimensions[8 * i : 8 * i + 8].decode("latin-1").strip()
        if unit not in EDF_VOLTAGE_UNITS:
            odd.append((label, unit))
    if odd and len(odd) == n_data:
        label, unit = odd[0]
        more = f" (and {len(odd) - 1} more)" if len(odd) > 1 else ""
        raise RecordingError(path, f"channel {label!r} has unknown units {unit!r}{more}; "
                             "calfwatch reads signals in uV, mV or V")
    return odd


def left_out_signals(path: str | os.PathLike) -> list[tuple[str, str]]:
    """Signals of an EDF/BDF file that calfwatch leaves out, as (label, unit): not in uV, mV or V.

    Empty for other formats and for files it cannot read (their readers say why).
    """
    path = Path(path)
    try:
        with open(path, "rb") as fid:
            fixed = fid.read(_EDF_FIXED_HEADER)
            if not fixed.startswith((_EDF_MAGIC, _BDF_MAGIC)):
                return []
            n_signals = int(fixed[252:256])
            labels = fid.read(16 * n_signals)
            fid.seek(_EDF_FIXED_HEADER + 96 * n_signals)
            dimensions = fid.read(8 * n_signals)
        return _edf_units(path, labels, dimensions, n_signals)
    except (OSError, ValueError, RecordingError):
        return []
