"""What a batch analyses: recordings named on the command line, found in folders or in a BIDS
dataset, each with its own output folder.

Folders are searched (recursively, in sorted order, hidden folders and ``*_analysis`` output
folders skipped) for :data:`FOUND_SUFFIXES`; CSV and text recordings are analysed when named
explicitly only (a folder of outputs holds text files that are not recordings), and so are files
named ``.rec`` that are not EDF/BDF by their content. A folder holding
``dataset_description.json`` is a BIDS root: its recordings are ``sub-*/[ses-*/]emg/*_emg.<ext>``,
their subject and session come from the file name, and outputs go to
``<root>/derivatives/calfwatch/`` unless ``--out`` says otherwise.

Output folders mirror the recordings' folders below their common parent, so two recordings never
share one: ``analyze d1/night.bdf d2/night.edf --out coll`` writes ``coll/d1/night/`` and
``coll/d2/night/``; recordings in one folder get ``coll/<name>/`` each; two that differ only by their
extension get the extension in the name (``night_edf``, ``night_bdf``), with a number
(``night_edf-2``) when another recording of the folder has that name as its own
(``night_edf.bdf``). A folder
holding an analysis's outputs (``summary.json`` and ``events.tsv``) is not searched: a batch run
again into an ``--out`` inside the folder it searches does not take its own outputs in.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

#: Suffixes of the recordings a folder search picks up (WFDB records by their header). ``.rec``
#: is PhysioNet Sleep-EDF's name for its EDF files; other programs name other things ``.rec``
#: (text logs, videos, their own formats), so a ``.rec`` file found counts only when its content
#: is EDF/BDF (:data:`CONTENT_CHECKED_SUFFIXES`), and is passed over otherwise, as files of
#: other suffixes are.
FOUND_SUFFIXES = (".edf", ".bdf", ".fif", ".hea", ".rec")
#: Suffixes of :data:`FOUND_SUFFIXES` that a found file counts by only when it is EDF/BDF.
CONTENT_CHECKED_SUFFIXES = (".rec",)
#: Suffixes stripped from a recording's name to name its output folder.
STRIP_SUFFIXES = (".edf", ".bdf", ".fif", ".hea", ".dat", ".csv", ".txt", ".rec")
#: The file that makes a folder a BIDS root.
BIDS_DESCRIPTION = "dataset_description.json"
#: Where the analysis of a BIDS dataset goes, below its root.
BIDS_DERIVATIVES = Path("derivatives") / "calfwatch"

_SPLIT_FIF = re.compile(r"-\d+\.fif$", re.IGNORECASE)
_BIDS_EMG = re.compile(r"^sub-(?P<sub>[A-Za-z0-9]+)(?:_ses-(?P<ses>[A-Za-z0-9]+))?_.*_emg\.[a-z]+$",
                       re.IGNORECASE)


@dataclass(frozen=True)
class Job:
    """One recording of a batch.

    Attributes
    ----------
    index : int
        Its place in the batch (the cohort table's row).
    path : str
        The recording, as the user named it (in messages and the cohort table).
    out_dir : str
        Its output folder, as the user would name it.
    subject, session : str
        From a BIDS file name (empty otherwise).
    source, target : str
        ``path`` and ``out_dir`` made absolute where the batch starts: a worker may run in another
        working directory or on another machine that sees the same paths.
    """

    index: int
    path: str
    out_dir: str
    subject: str = ""
    session: str = ""
    source: str = ""
    target: str = ""

    def __post_init__(self) -> None:
        if not self.source:
            object.__setattr__(self, "source", os.path.abspath(self.path))
        if not self.target:
            object.__setattr__(self, "target", os.path.abspath(self.out_dir))


@dataclass(frozen=True)
class Batch:
    """The jobs, whether the command names a batch (several recordings or a folder), and
    where its cohort table goes."""

    jobs: list[Job]
    is_batch: bool
    cohort_dir: Path


def stem(path: str | os.PathLike) -> str:
    """The recording's name without its recording suffix.

    Examples
    --------
    >>> stem("nights/2026-03-01.bdf"), stem("rec_raw.fif"), stem("100.hea")
    ('2026-03-01', 'rec_raw', '100')
    """
    name = Path(path).name
    for suffix in STRIP_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def is_bids_root(folder: Path) -> bool:
    """True when ``folder`` holds a BIDS ``dataset_description.json``."""
    return (folder / BIDS_DESCRIPTION).is_file()


def _is_found(path: Path) -> bool:
    """Whether a folder search takes the file ``path`` for a recording (module docstring)."""
    name = path.name.lower()
    if name.startswith(".") or not name.endswith(FOUND_SUFFIXES) or _SPLIT_FIF.search(name):
        return False
    if name.endswith(CONTENT_CHECKED_SUFFIXES):
        from acquisition.edf.header import edf_kind

        return edf_kind(path) is not None
    return True


def _is_output_folder(files: list[str]) -> bool:
    """Whether a folder holds the outputs of an analysis (its ``summary.json`` and
    ``events.tsv``): its ``events.edf`` is the events of a recording, not one, so a batch whose
    ``--out`` lies inside the folder it searches does not take its own outputs in again."""
    from calfwatch.outputs import EVENTS_FILE, SUMMARY_FILE

    return SUMMARY_FILE in files and EVENTS_FILE in files


def _walk(folder: Path) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(folder):
        if _is_output_folder(files):
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not d.endswith("_analysis"))
        found += [Path(root) / name for name in sorted(files) if _is_found(Path(root) / name)]
    return found


def _bids_recordings(root: Path) -> list[tuple[Path, str, str]]:
    out = []
    for sub in sorted(p for p in root.glob("sub-*") if p.is_dir()):
        for path in _walk(sub):
            match = _BIDS_EMG.match(path.name)
            if match and path.parent.name == "emg":
                out.append((path, match["sub"], match["ses"] or ""))
    return out


def find_recordings(paths: list[str]) -> tuple[list[tuple[Path, str, str, Path | None]], bool]:
    """Expand the command's PATHs.

    Returns
    -------
    (list, bool)
        ``(path, subject, session, bids_root or None)`` per recording, first mention kept, and
        whether a folder was among the PATHs.
    """
    found: list[tuple[Path, str, str, Path | None]] = []
    any_folder = False
    for text in paths:
        path = Path(text)
        if not path.is_dir():
            found.append((path, "", "", None))
            continue
        any_folder = True
        if is_bids_root(path):
            found += [(p, sub, ses, path) for p, sub, ses in _bids_recordings(path)]
        else:
            found += [(p, "", "", None) for p in _walk(path)]
    seen: set[str] = set()
    unique = []
    for item in found:
        key = os.path.realpath(item[0])
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique, any_folder


def _common_parent(paths: list[Path]) -> Path:
    parents = [os.path.abspath(p.parent) for p in paths]
    return Path(os.path.commonpath(parents)) if parents else Path.cwd()


def _out_dirs(found: list[tuple[Path, str, str, Path | None]], out: str | None) -> list[Path]:
    """One output folder per recording, none shared (see the module's description)."""
    base = _common_parent([f[0] for f in found])
    names = [stem(f[0]) for f in found]
    keys = [(os.path.abspath(f[0].parent), n) for f, n in zip(found, names, strict=True)]
    clash = {k for k in keys if keys.count(k) > 1}
    taken: set[tuple[str, str]] = set()
    dirs = []
    for (path, _, _, root), name, key in zip(found, names, keys, strict=True):
        if key in clash:
            name = f"{name}_{path.name[len(name):].lstrip('.').replace('.', '_')}"
        name = _free_name(name, key[0], taken, set(keys) if key in clash else set())
        if out is not None:
            rel = Path(os.path.abspath(path.parent)).relative_to(base)
            dirs.append(Path(out) / rel / name)
        elif root is not None:
            rel = Path(os.path.abspath(path.parent)).relative_to(os.path.abspath(root))
            dirs.append(root / BIDS_DERIVATIVES / rel / name)
        else:
            dirs.append(path.parent / f"{name}_analysis")
    return dirs


def _free_name(name: str, folder: str, taken: set[tuple[str, str]],
               avoid: set[tuple[str, str]]) -> str:
    """``name``, or ``name-2``, ``name-3``... the first that no recording of ``folder`` has taken
    and that is not in ``avoid`` (for a name made of stem and extension, the other recordings'
    own stems: ``a.edf`` beside ``a.bdf`` would be ``a_edf``, the name of ``a_edf.bdf``); it is
    then taken."""
    candidate, n = name, 1
    while (folder, candidate) in taken or (folder, candidate) in avoid:
        n += 1
        candidate = f"{name}-{n}"
    taken.add((folder, candidate))
    return candidate


def plan_batch(paths: list[str], out: str | None, anonymize: bool = False) -> Batch:
    """The jobs for the command's PATHs and ``--out``.

    A single recording named as a file goes to ``--out`` itself (default
    ``<name>_analysis/`` beside it); otherwise see the module's description. The cohort table
    goes to ``--out``, else the BIDS root's derivatives folder when one root was given, else the
    recordings' common parent folder. With ``anonymize``, a batch's output folders are
    ``recording-0001``, ``recording-0002``... (batch order) inside that folder, named after
    neither the recordings nor their folders.

    Raises
    ------
    FileNotFoundError
        When a folder holds no recording.

    Examples
    --------
    >>> batch = plan_batch(["d1/night.bdf", "d2/night.edf"], "coll")  # doctest: +SKIP
    >>> [job.out_dir for job in batch.jobs], batch.cohort_dir  # doctest: +SKIP
    (['coll/d1/night', 'coll/d2/night'], PosixPath('coll'))
    """
    found, any_folder = find_recordings(paths)
    if not found:
        raise FileNotFoundError(2, "no recording found (looked for "
                                f"{', '.join(FOUND_SUFFIXES)})", paths[0])
    is_batch = len(found) > 1 or any_folder
    if not is_batch:
        path = found[0][0]
        out_dir = Path(out) if out is not None else path.parent / f"{stem(path)}_analysis"
        return Batch([Job(0, str(path), str(out_dir))], False, out_dir)
    roots = {f[3] for f in found}
    if out is not None:
        cohort_dir = Path(out)
    elif len(roots) == 1 and None not in roots:
        cohort_dir = next(iter(roots)) / BIDS_DERIVATIVES
    else:
        cohort_dir = _common_parent([f[0] for f in found])
    if anonymize:
        dirs = [cohort_dir / anonymous_name(i) for i in range(len(found))]
    else:
        dirs = _out_dirs(found, out)
    jobs = [Job(i, str(p), str(d), sub, ses)
            for i, ((p, sub, ses, _), d) in enumerate(zip(found, dirs, strict=True))]
    return Batch(jobs, True, cohort_dir)


def anonymous_name(index: int) -> str:
    """What stands for the recording at ``index`` of an anonymised batch."""
    return f"recording-{index + 1:04d}"
