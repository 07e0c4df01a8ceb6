"""EDF+ signal labels and prefilter text.

EDF+ labels a signal ``<type> <specification>``: ``EMG calf_left``. calfwatch writes its channels
that way (MNE's ``read_raw_edf(..., infer_types=True)`` then types them EMG and names them
``calf_left``) and reads them back under the plain name, so a channel has one name in the device,
the recording, events.tsv and every report. The prefilter field states the hardware filter of the
device, ``HP:20Hz LP:450Hz`` (EDF+ syntax, which MNE and mne-bids read as the cut-offs).

A label whose first word is another of the standard signal types (``EEG Fpz-Cz``, ``ECG``,
``Resp oro-nasal``; the EDF+ standard texts, https://edfplus.info/specs/edftexts.html, section
2.3) says that signal is not EMG: :func:`signal_type` reads that word.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, NoReturn

#: EDF+ signal type written before every calfwatch channel name.
EMG_TYPE = "EMG"
_PREFIX = EMG_TYPE + " "
#: The MNE channel type of each EDF+ standard signal type (edftexts.html, section 2.3), and of
#: two spellings outside the standard that polysomnographs write (EKG, SpO2).
SIGNAL_TYPES = {
    "EEG": "eeg", "ECG": "ecg", "EKG": "ecg", "EOG": "eog", "ERG": "misc", "EMG": "emg",
    "MEG": "misc", "MCG": "misc", "EP": "misc", "TEMP": "temperature", "RESP": "resp",
    "SAO2": "bio", "SPO2": "bio", "LIGHT": "misc", "SOUND": "misc", "EVENT": "misc",
}
#: The type word: one of the above, not followed by a letter ("EEG1", "EOG(L)", "ECG").
_TYPE_WORD = re.compile(r"\s*(" + "|".join(SIGNAL_TYPES) + r")(?![A-Za-z])", re.IGNORECASE)
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


def signal_type(label: str) -> str | None:
    """The MNE channel type of the EDF+ signal type ``label`` begins with; None when it begins
    with none (a plain name such as ``Leg L`` or ``calf``).

    Examples
    --------
    >>> signal_type("EEG Fpz-Cz"), signal_type("ECG"), signal_type("EMG calf_left")
    ('eeg', 'ecg', 'emg')
    >>> signal_type("Resp oro-nasal"), signal_type("EOG(L)"), signal_type("EEG1")
    ('resp', 'eog', 'eeg')
    >>> signal_type("Leg L"), signal_type("Eventual"), signal_type("calf")
    (None, None, None)
    """
    word = _TYPE_WORD.match(label)
    return SIGNAL_TYPES[word.group(1).upper()] if word else None


def typed_other_than_emg(types: Sequence[str | None]) -> list[bool]:
    """Which signals a file's labels type other than EMG (``types`` as :func:`signal_type`
    gives them), when another signal is typed EMG or not typed at all; none when every label
    states a type other than EMG (the file then has not said which signal is EMG).

    Examples
    --------
    >>> typed_other_than_emg(["eeg", "emg", None, "ecg"])
    [True, False, False, True]
    >>> typed_other_than_emg(["eeg", "eeg"])
    [False, False]
    """
    if all(kind not in (None, "emg") for kind in types):
        return [False] * len(types)
    return [kind not in (None, "emg") for kind in types]


def channel_names(labels: list[str]) -> list[str]:
    """:func:`channel_name` of every label, or the labels as they are if that makes two alike;
    labels alike in the file are told apart first as MNE does (``EMG-0``, ``EMG-1``).

    Examples
    --------
    >>> channel_names(["EMG calf", "EMG shin"]), channel_names(["EMG a", "a"])
    (['calf', 'shin'], ['EMG a', 'a'])
    >>> channel_names(["EMG calf", "EMG calf", "EMG calf-1"])
    ['calf-0', 'calf-a', 'calf-1']
    """
    labels = _running_numbers(list(labels))
    names = [channel_name(label) for label in labels]
    return names if len(set(names)) == len(names) else labels


def _running_numbers(labels: list[str]) -> list[str]:
    """``labels`` with each run of alike ones numbered ``-0``, ``-1``... (a name taken already
    gets the next letter instead), as MNE's readers name them."""
    out = list(labels)
    for stem in sorted({label for label in labels if labels.count(label) > 1}):
        for k, row in enumerate(i for i, label in enumerate(labels) if label == stem):
            for suffix in (str(k), *string.ascii_lowercase):
                if f"{stem}-{suffix}" not in out:
                    out[row] = f"{stem}-{suffix}"
                    break
    return out


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


#: One item of an EDF+ prefilter text: ``HP:0.1Hz``, ``LP:1kHz``, ``N:50Hz``, ``HP:DC``.
_FILTER_ITEM = re.compile(r"\b(HP|LP|N)\s*:\s*(DC|[0-9]*\.?[0-9]+)\s*(kHz|Hz)?", re.IGNORECASE)


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
    for kind, value, unit in _FILTER_ITEM.findall(text or ""):
        if kind.upper() == "N":  # a notch is no corner
            continue
        hz = 0.0 if value.upper() == "DC" else float(value)
        found.setdefault(kind.upper(), hz * (1000.0 if unit.lower() == "khz" else 1.0))
    return found.get("HP"), found.get("LP")


#: Width of the EDF+ prefilter field: a longer text would be cut.
PREFILTER_CHARS = 80
_FILTER_FORMS = ("HP:<f>Hz and/or LP:<f>Hz, HP:DC for none, N:<f>Hz for a notch, e.g. "
                 "'HP:20Hz LP:450Hz'")


def prefilter_text(text: str) -> str:
    """A hardware filter's text in the EDF+ form MNE and :func:`filter_corners_hz` read
    (``HP:20Hz LP:450Hz``: capitals, values in Hz without an exponent).

    MNE reads the prefilter field's ``HP:``/``LP:`` in capitals and in Hz only; other text is
    lost to every reader, so it is refused rather than written.

    Raises
    ------
    ValueError
        The text is not a list of ``HP``/``LP``/``N`` items (what it must be and the forms), states
        HP or LP twice, an LP or notch at 0 Hz, HP not below LP, or is longer than the field.

    Examples
    --------
    >>> prefilter_text("hp: 0.1 hz  LP:1kHz")
    'HP:0.1Hz LP:1000Hz'
    >>> prefilter_text("20-450 Hz")
    Traceback (most recent call last):
    ...
    ValueError: must be a filter in EDF+ form (HP:<f>Hz and/or LP:<f>Hz, HP:DC for none, \
N:<f>Hz for a notch, e.g. 'HP:20Hz LP:450Hz'), not '20-450 Hz'
    """
    items = _filter_items(text)
    if not items:
        _refuse_filter("filter in EDF+ form", text)
    kinds = [kind for kind, _ in items]
    if kinds.count("HP") > 1 or kinds.count("LP") > 1:
        _refuse_filter("filter stating each of HP and LP at most once", text)
    if any(kind != "HP" and not hz for kind, hz in items):  # LP:DC, LP:0Hz, N:DC
        _refuse_filter("filter whose LP and N frequencies are above 0 Hz", text)
    corners = dict(items)
    if corners.get("LP") is not None and (corners.get("HP") or 0) >= corners["LP"]:
        _refuse_filter("filter whose HP corner is below its LP corner", text)
    written = " ".join(f"{kind}:{'DC' if hz is None else _hz_text(hz)}" for kind, hz in items)
    if len(written) > PREFILTER_CHARS:
        _refuse_filter(f"filter of at most {PREFILTER_CHARS} characters (the EDF+ field)", text)
    return written


def _filter_items(text: str) -> list[tuple[str, Decimal | None]]:
    """``(kind, Hz)`` of each item of a prefilter text (None for DC); [] when anything else is
    in it."""
    items, end = [], 0
    for match in _FILTER_ITEM.finditer(text):
        if text[end:match.start()].strip():
            return []
        kind, value, unit = match.groups()
        scale = 1000 if (unit or "").lower() == "khz" else 1
        items.append((kind.upper(), None if value.upper() == "DC" else Decimal(value) * scale))
        end = match.end()
    return items if not text[end:].strip() else []


def _hz_text(hz: Decimal) -> str:
    """``1000Hz``, ``0.1Hz``: as written, without an exponent (which the readers do not take)."""
    return f"{hz.normalize():f}Hz"


def _refuse_filter(what: str, text: str) -> NoReturn:
    raise ValueError(f"must be a {what} ({_FILTER_FORMS}), not {text!r}")
