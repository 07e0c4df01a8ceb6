"""Sample datasets: public EMG recordings found on disk, and the simulator's profiles.

Real recordings are not shipped with calfwatch. Point ``CALFWATCH_SAMPLE_DATA`` (or ``data_dir``)
at a folder holding any of::

    physionet_emgdb/emg_{healthy,myopathy,neuropathy}.{hea,dat}   PhysioNet "Examples of EMG"
    biosppy/emg.txt, biosppy/emg_1.txt                           BioSPPy examples
    musclesynergies/ID0012_TW_01_raw_emg.csv                     musclesyneRgies RAW_DATA export

each with the ``NOTICE.txt`` of its source (source, licence and citation are read from it).
Simulated datasets (``sim/<profile>``) come from :mod:`calfwatch.simulator` when it is installed.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Environment variable naming the folder of real sample recordings.
ENV_VAR = "CALFWATCH_SAMPLE_DATA"
NOTICE = "NOTICE.txt"
SIM_PREFIX = "sim/"

_EMGDB_QUIRKS = (
    "Concentric needle EMG from tibialis anterior, not surface EMG: sharper and much larger "
    "potentials than a calf surface electrode sees; band-limit and resample before treating "
    "it as surface data.",
    "Protocol: a gentle dorsiflexion against resistance, then rest.",
)
_EMGDB_REPEAT = (
    "The second part of the record is a near copy of the first (it follows a flat stretch at "
    "about {at_s} s); count events only before that point."
)


@dataclass(frozen=True)
class _RealEntry:
    """Where a real recording sits under the data folder and what to know about it."""

    name: str
    folder: str
    file: str
    description: str
    quirks: tuple[str, ...] = ()
    open_kwargs: dict[str, Any] = field(default_factory=dict)


_REAL = (
    _RealEntry("emgdb/healthy", "physionet_emgdb", "emg_healthy.hea",
               "PhysioNet emgdb: tibialis anterior of a 44-year-old man without neuromuscular "
               "disease", _EMGDB_QUIRKS),
    _RealEntry("emgdb/myopathy", "physionet_emgdb", "emg_myopathy.hea",
               "PhysioNet emgdb: tibialis anterior of a 57-year-old man with myopathy "
               "(polymyositis)", (*_EMGDB_QUIRKS, _EMGDB_REPEAT.format(at_s="16.8"))),
    _RealEntry("emgdb/neuropathy", "physionet_emgdb", "emg_neuropathy.hea",
               "PhysioNet emgdb: tibialis anterior of a 62-year-old man with neuropathy "
               "(L5 radiculopathy)",
               (*_EMGDB_QUIRKS, _EMGDB_REPEAT.format(at_s="18.45"),
                "For the first 11 s one large motor unit (about 3 mV peak to peak) fires "
                "regularly at about 10 Hz: voluntary firing, a negative control for "
                "fasciculation detection.")),
    _RealEntry("biosppy/emg", "biosppy", "emg.txt",
               "BioSPPy example: surface EMG, raw 12-bit BITalino counts, mostly noise floor",
               ("Values are ADC counts converted with the BITalino EMG transfer function.",)),
    _RealEntry("biosppy/emg_1", "biosppy", "emg_1.txt",
               "BioSPPy example: surface EMG, raw 12-bit BITalino counts, three contractions "
               "(about 1.5, 15.5 and 25.6 s) between rests",
               ("Values are ADC counts converted with the BITalino EMG transfer function.",)),
    _RealEntry("musclesynergies/ID0012_TW_01", "musclesynergies", "ID0012_TW_01_raw_emg.csv",
               "musclesyneRgies: surface EMG of 13 right-leg muscles (incl. gastrocnemius "
               "GM/GL and soleus SO) during treadmill walking, six strides",
               ("The source does not state units; the values look like µV and are read as µV.",
                "Calf muscles burst once per stride during stance: movement, not rest; "
                "touchdown and lift-off times are in ID0012_TW_01_cycles.csv."),
               {"units": "uV"}),
)


@dataclass(frozen=True)
class Dataset:
    """A sample recording calfwatch can load.

    Attributes
    ----------
    name : str
        E.g. ``"emgdb/neuropathy"``, ``"biosppy/emg_1"``, ``"sim/quiet"``.
    kind : {"real", "simulated"}
    path : pathlib.Path or None
        The file of a real recording (None for simulated ones).
    description, source, licence, citation : str
        Source, licence and citation of real recordings come from the folder's NOTICE.txt.
    quirks : tuple of str
        Facts worth knowing before using the data.
    sfreq_hz, duration_s : float or None
        From the file's header (real) or the profile (simulated); None when unknown.
    """

    name: str
    kind: str
    path: Path | None
    description: str
    source: str
    licence: str
    citation: str
    quirks: tuple[str, ...] = ()
    sfreq_hz: float | None = None
    duration_s: float | None = None
    open_kwargs: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def sample_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The real-recordings folder: ``data_dir``, else ``$CALFWATCH_SAMPLE_DATA``; None if absent."""
    value = data_dir if data_dir is not None else os.environ.get(ENV_VAR)
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_dir() else None


# --- NOTICE.txt ----------------------------------------------------------------------------------

_KEY = re.compile(r"(?:^|(?<=\. ))(?P<key>[A-Z][A-Za-z ]{1,40}?|DOI|Data source as stated in "
                  r"\S+):\s", re.MULTILINE)


def parse_notice(text: str) -> dict[str, str]:
    """Fields of a NOTICE.txt: ``"Key: value"`` runs, a value ending at a line that ends with a
    full stop or before the next key. Keys are lower-cased (``source``, ``license``, ``cite``...).
    """
    fields: dict[str, str] = {}
    matches = list(_KEY.finditer(text))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        lines = text[match.end() : end].splitlines()
        kept = []
        for line in lines:
            kept.append(line.strip())
            if line.rstrip().endswith("."):
                break
        fields.setdefault(match["key"].lower(), " ".join(s for s in kept if s))
    return fields


def _notice(folder: Path) -> tuple[str, str, str]:
    """(source, licence, citation) from the folder's NOTICE.txt."""
    try:
        fields = parse_notice((folder / NOTICE).read_text(encoding="utf-8"))
    except OSError:
        missing = f"unknown ({NOTICE} missing in {folder.name}/)"
        return missing, missing, missing
    source = fields.get("source", "not stated")
    if "doi" in fields:
        source += f" DOI: {fields['doi'].rstrip('.')}"
    data_source = next((v for k, v in fields.items() if k.startswith("data source")), None)
    citations = [fields.get("cite"), data_source and f"Data: {data_source}",
                 fields.get("package citation")]
    return source, fields.get("license", "not stated"), " ".join(c for c in citations if c)


# --- listing -------------------------------------------------------------------------------------


def _real_datasets(root: Path) -> list[Dataset]:
    from acquisition.errors import RecordingError
    from acquisition.reader import open_recording

    out = []
    for entry in _REAL:
        path = root / entry.folder / entry.file
        if not path.is_file():
            continue
        source, licence, citation = _notice(root / entry.folder)
        try:
            raw = open_recording(path, **entry.open_kwargs)
            sfreq_hz, duration_s = raw.info["sfreq"], raw.n_times / raw.info["sfreq"]
        except RecordingError:
            sfreq_hz = duration_s = None
        out.append(Dataset(entry.name, "real", path, entry.description, source, licence,
                           citation, entry.quirks, sfreq_hz, duration_s, entry.open_kwargs))
    return out


def _simulated_datasets() -> list[Dataset]:
    try:
        from calfwatch.simulator import PROFILES
    except ImportError:
        return []
    out = []
    for name, params in PROFILES.items():
        rate = getattr(params, "fasc_rate_per_min", None)
        noise = getattr(params, "noise_rms_uv", None)
        bits = [f"{rate:g} fasciculations/min at rest" if rate is not None else "",
                f"noise {noise:g} µV RMS" if noise is not None else ""]
        out.append(Dataset(
            SIM_PREFIX + name, "simulated", None,
            "Simulated calf surface EMG with exact ground truth"
            + (": " + ", ".join(b for b in bits if b) if any(bits) else ""),
            "calfwatch simulator (calfwatch.simulator profile " + repr(name) + ")",
            "MIT (generated by calfwatch)", "", (),
            getattr(params, "sfreq_hz", None), getattr(params, "duration_s", None)))
    return out


def list_datasets(data_dir: str | os.PathLike | None = None) -> list[Dataset]:
    """Every dataset available: real recordings under the data folder, then simulated profiles.

    Parameters
    ----------
    data_dir : path-like, optional
        Folder of real recordings; defaults to ``$CALFWATCH_SAMPLE_DATA``. Without one, only the
        simulated datasets are listed.
    """
    root = sample_data_dir(data_dir)
    real = _real_datasets(root) if root is not None else []
    return real + _simulated_datasets()


def get_dataset(name: str, data_dir: str | os.PathLike | None = None) -> Dataset:
    """The dataset called ``name``; LookupError (one line) naming the known ones otherwise."""
    found = list_datasets(data_dir)
    for dataset in found:
        if dataset.name == name:
            return dataset
    known = [e.name for e in _REAL]
    if name in known:
        where = sample_data_dir(data_dir)
        hint = (f"set {ENV_VAR} to the folder of sample recordings" if where is None
                else f"its file is not under {where}")
        raise LookupError(f"dataset '{name}' is not available: {hint}")
    names = ", ".join(d.name for d in found) or "none"
    raise LookupError(f"unknown dataset '{name}' (available: {names})")


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, **kwargs):
    """Open a dataset as an MNE Raw (volts, channel type 'emg').

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets`.
    data_dir : path-like, optional
        Folder of real recordings; defaults to ``$CALFWATCH_SAMPLE_DATA``.
    **kwargs
        Real datasets: passed to :func:`acquisition.reader.open_recording` (e.g. ``preload``).
        Simulated datasets: ``seed`` (default 0), ``fmt`` (``"edf"``), ``out_dir`` (default: a new
        temporary folder, left in place because the Raw reads from it), ``preload``, and any
        profile field such as ``duration_s=600`` (a profile is a whole night unless shortened).

    Returns
    -------
    mne.io.BaseRaw
    """
    from acquisition.reader import open_recording

    dataset = get_dataset(name, data_dir)
    if dataset.kind == "simulated":
        return _load_simulated(dataset.name[len(SIM_PREFIX):], **kwargs)
    return open_recording(dataset.path, **{**dataset.open_kwargs, **kwargs})


def _load_simulated(profile: str, *, seed: int = 0, fmt: str = "edf",
                    out_dir: str | os.PathLike | None = None, preload: bool = False,
                    **overrides):
    from acquisition.reader import open_recording
    from calfwatch.simulator import load_profile, simulate_night, write_simulation

    night = simulate_night(load_profile(profile, **overrides), seed=seed)
    folder = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="calfwatch-"))
    paths = write_simulation(night, folder / f"{profile}_seed{seed}.{fmt}", fmt)
    return open_recording(paths["recording"], preload=preload)
