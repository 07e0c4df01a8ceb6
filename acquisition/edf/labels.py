"""EDF+ signal labels and prefilter text.

EDF+ labels a signal ``<type> <specification>``: ``EMG calf_left``. calfwatch writes its channels
that way (MNE's ``read_raw_edf(..., infer_types=True)`` then types them EMG and names them
``calf_left``) and reads them back under the plain name, so a channel has one name in the device,
the recording, events.tsv and every report. The prefilter field states the hardware filter of the
device, ``HP:20Hz LP:450Hz`` (EDF+ syntax, which MNE and mne-bids read as the cut-offs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: EDF+ signal type written before every calfwatch channel name.
EMG_TYPE = "EMG"
_PREFIX = EMG_TYPE + " "
#: Hardware filters of the supported devices (EDF+ prefilter text), from their documentation:
#: the Cyton's ADS1299 decimation filter has its -3 dB point at 0.262 x the data rate (250 Hz,
#: ADS1299 datasheet) and no high-pass; the BITalino EMG sensor passes 25-482 Hz (its datasheet).
#: Devices not listed state nothing: the field stays empty rather than guessed.
HARDWARE_FILTERS = {
    "cyton": "HP:DC LP:65.5Hz",
    "bitalino": "HP:25Hz LP:482Hz",
}


def edf_label(name: str, signal_type: str = EMG_TYPE) -> str:
    """The EDF+ label of a channel: ``EMG <name>`` (unchanged when it already says ``EMG ...``).

    Examples
    --------
    >>> edf_label("calf_left")
    'EMG calf_left'
    >>> edf_label("EMG CalfL1")
    'EMG CalfL1'
    """
    prefix = signal_type + " "
    return name if name.startswith(prefix) else prefix + name


def channel_name(label: str) -> str:
    """The channel name of an EDF+ label: ``EMG calf_left`` -> ``calf_left``; others unchanged.

    Examples
    --------
    >>> channel_name("EMG calf_left"), channel_name("EMG"), channel_name("EEG Fpz-Cz")
    ('calf_left', 'EMG', 'EEG Fpz-Cz')
    """
    rest = label[len(_PREFIX):].strip() if label.startswith(_PREFIX) else ""
    return rest or label


def channel_names(labels: list[str]) -> list[str]:
    """:func:`channel_name` of every label, or the labels as they are if that makes two alike."""
    names = [channel_name(label) for label in labels]
    return names if len(set(names)) == len(names) else list(labels)


def hardware_prefilter(device: Mapping[str, Any]) -> str:
    """The EDF+ prefilter text of a device: its stated ``hardware_filter``, else the known one.

    Examples
    --------
    >>> hardware_prefilter({"kind": "cyton"})
    'HP:DC LP:65.5Hz'
    >>> hardware_prefilter({"kind": "ascii", "hardware_filter": "HP:20Hz LP:498Hz"})
    'HP:20Hz LP:498Hz'
    >>> hardware_prefilter({"kind": "calfwatch"})
    ''
    """
    stated = str(device.get("hardware_filter") or "").strip()
    return stated or HARDWARE_FILTERS.get(str(device.get("kind", "")), "")


_CORNER = re.compile(r"\b(HP|LP)\s*:\s*(DC|[0-9]*\.?[0-9]+)\s*(k?Hz)?", re.IGNORECASE)


def filter_corners_hz(text: str) -> tuple[float | None, float | None]:
    """The high-pass and low-pass corners an EDF+ prefilter text states (``HP:0.1Hz LP:75Hz
    N:50Hz``, the EDF+ syntax), None where it states none; ``HP:DC`` is 0.

    Examples
    --------
    >>> filter_corners_hz("HP:0.1Hz LP:75Hz N:50Hz")
    (0.1, 75.0)
    >>> filter_corners_hz("HP:DC LP:1kHz")
    (0.0, 1000.0)
    >>> filter_corners_hz("")
    (None, None)
    """
    found: dict[str, float] = {}
    for kind, value, unit in _CORNER.findall(text or ""):
        hz = 0.0 if value.upper() == "DC" else float(value)
        found.setdefault(kind.upper(), hz * (1000.0 if unit.lower() == "khz" else 1.0))
    return found.get("HP"), found.get("LP")

