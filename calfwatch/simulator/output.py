"""Writing a simulated night: the recording (EDF+, BDF+ or FIF) and its ground truth.

Files for ``path = out/night.edf``:

- ``out/night.edf`` (or ``.bdf``; ``out/night_raw.fif`` for FIF): the samples in data records of
  1 s (or 0.5/0.25/0.2/0.1 s when that divides the night, so nothing is padded), physical range
  ``+-rail_uv`` (saturated stretches sit at the rail), with one annotation per truth event whose text
  is ``"<kind>@@<channel>"`` (e.g. ``"fasciculation@@calf_left"``): MNE reads that as description
  ``kind`` with ``ch_names=(channel,)``. Events at the same time, duration and kind on several
  channels come back from MNE as one annotation listing those channels.
- ``out/night_events.tsv``: BIDS-style table, columns ``onset duration kind channel unit
  peak_to_peak_uv detail detectable overlaps``, times and amplitudes with 6 decimals, ``n/a`` for an
  empty detail; ``detectable`` is ``true``/``false`` for fasciculation potentials (peak-to-peak at
  or above the truth's ``detection_floor``) and ``n/a`` for other kinds; ``overlaps`` is
  ``true``/``false`` for fasciculation potentials (main phases overlapping an earlier potential's:
  not counted, see :class:`~calfwatch.simulator.truth.TruthEvent`) and ``n/a`` for other kinds.
- ``out/night_truth.json``: the truth summary, stream info, unit tables and every event.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from acquisition.safe_files import PRIVATE_MODE, write_atomic
from calfwatch.simulator.night import SimulatedNight
from calfwatch.simulator.params import SimulationError
from calfwatch.simulator.truth import detection_floor, is_detectable
from classifier.kinds import FASCICULATION

FORMATS = ("edf", "bdf", "fif")
EVENT_COLUMNS = ("onset", "duration", "kind", "channel", "unit", "peak_to_peak_uv", "detail",
                 "detectable", "overlaps")
WRITE_CHUNK_S = 10.0


def annotation_text(kind: str, channel: str) -> str:
    """The annotation text of a truth event in the recording."""
    return f"{kind}@@{channel}"


def output_paths(path: str | os.PathLike, fmt: str) -> dict[str, Path]:
    """Recording, events and truth paths for ``path``: the recording is ``path`` when its suffix
    is the format's, else ``path`` with the format's suffix (``_raw.fif``, MNE's convention, for
    FIF); the truth files sit beside it."""
    path = Path(path)
    stem = path.name
    given = ""
    for suffix in (".edf", ".bdf", ".fif"):
        if stem.lower().endswith(suffix):
            stem, given = stem[: -len(suffix)], suffix
            break
    recording = path if given == f".{fmt}" else path.with_name(
        stem.removesuffix("_raw") + ("_raw.fif" if fmt == "fif" else f".{fmt}"))
    stem = stem.removesuffix("_raw")
    return {
        "recording": recording,
        "events": path.with_name(f"{stem}_events.tsv"),
        "truth": path.with_name(f"{stem}_truth.json"),
    }


def write_simulation(night: SimulatedNight, path: str | os.PathLike, fmt: str = "edf") -> dict:
    """Write the night's recording and ground truth.

    Parameters
    ----------
    night : SimulatedNight
    path : str or os.PathLike
        The recording's path (its suffix set from ``fmt`` when it is not the format's); the
        truth files sit beside it.
    fmt : {"edf", "bdf", "fif"}
        EDF+ (16 bit), BDF+ (24 bit) or FIF (through a temporary BDF+ read back by MNE).

    Returns
    -------
    dict
        ``{"recording": Path, "events": Path, "truth": Path}``.
    """
    if fmt not in FORMATS:
        raise SimulationError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    paths = output_paths(path, fmt)
    paths["recording"].parent.mkdir(parents=True, exist_ok=True)
    if fmt == "fif":
        _write_fif(night, paths["recording"])
    else:
        _write_edf(night, paths["recording"], fmt)
    write_events_tsv(night, paths["events"])
    write_truth_json(night, paths["truth"], paths["recording"].name)
    return paths


def _write_edf(night: SimulatedNight, path: Path, fmt: str) -> None:
    from acquisition.edf.writer import EdfPlusWriter

    p, info = night.params, night.info
    with EdfPlusWriter(
        path, info.ch_names, info.sfreq_hz, info.meas_date, fmt=fmt,
        physical_min_uv=-p.rail_uv, physical_max_uv=p.rail_uv, record_s=_record_s(night),
        patient_id="X X X X", recording_id=f"calfwatch-simulator {p.profile} seed {night.seed}",
        equipment="calfwatch simulator",
        annotation_chars_per_record=_annotation_room(night),
    ) as writer:
        for e in night.truth:  # 6 decimals, as in the events table
            writer.annotate(round(e.onset_s, 6), round(e.duration_s, 6),
                            annotation_text(e.kind, e.channel))
        for chunk in night.chunks(WRITE_CHUNK_S):
            writer.write(chunk.data_uv)


def _record_s(night: SimulatedNight) -> float:
    """The longest record (1 s or a fraction) that divides the night, so nothing is padded."""
    fs = int(night.params.sfreq_hz)
    for record_s in (1.0, 0.5, 0.25, 0.2, 0.1):
        spr = fs * record_s
        if spr.is_integer() and night.n_samples % int(spr) == 0:
            return record_s
    return 1.0  # the writer pads the last record and annotates the padding


def _annotation_room(night: SimulatedNight) -> int:
    """Bytes per 1-s record that hold the busiest second's annotations (at least 600)."""
    if not night.truth:
        return 600
    per_s = np.bincount(np.floor([e.onset_s for e in night.truth]).astype(np.int64))
    longest = max(len(annotation_text(e.kind, e.channel)) for e in night.truth)
    return max(600, int(per_s.max()) * (longest + 40) + 200)


def _write_fif(night: SimulatedNight, path: Path) -> None:
    import mne

    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        bdf = Path(tmp) / "night.bdf"
        _write_edf(night, bdf, "bdf")
        raw = mne.io.read_raw_bdf(bdf, preload=False, verbose="error")
        raw.set_channel_types({ch: "emg" for ch in raw.ch_names}, verbose="error")
        _save_streamed(raw, path)
        del raw
    for part in _fif_parts(path):  # MNE writes with the process's umask
        os.chmod(part, PRIVATE_MODE)


def _fif_parts(path: Path) -> list[Path]:
    """The FIF ``path`` and the further parts MNE splits a file over 2 GB into (``-1``, ...)."""
    stem = path.name.removesuffix(".fif")
    parts = [path]
    while (nxt := path.with_name(f"{stem}-{len(parts)}.fif")).exists():
        parts.append(nxt)
    return parts


class _LazyTimes:
    """Stand-in for ``Raw.times`` that computes single items on demand (no n_times array)."""

    def __init__(self, n_times: int, sfreq_hz: float) -> None:
        self.n_times, self.sfreq_hz = n_times, sfreq_hz

    def __len__(self) -> int:
        return self.n_times

    def __getitem__(self, index):
        if isinstance(index, int | np.integer):
            index = int(index) + (self.n_times if index < 0 else 0)
            return index / self.sfreq_hz
        raise TypeError("lazy times support single indices only")


def _save_streamed(raw, path: Path) -> None:
    """``raw.save`` in 10-s buffers without materialising ``raw.times``.

    MNE's writer asks for ``raw.times`` to place annotations, which builds an array of 8 bytes per
    sample (460 MB for 8 h at 2 kHz); only ``times[0]`` is used, so a lazy stand-in is given. If a
    future MNE needs more of it, the plain save is used instead.
    """
    base = type(raw)
    lazy = type(f"_Lazy{base.__name__}", (base,), {
        "times": property(lambda self: _LazyTimes(self.n_times, self.info["sfreq"])),
    })
    raw.__class__ = lazy
    try:
        raw.save(path, overwrite=True, buffer_size_sec=10.0, verbose="error")
    except TypeError:
        raw.__class__ = base
        raw.save(path, overwrite=True, buffer_size_sec=10.0, verbose="error")
    finally:
        raw.__class__ = base


def write_events_tsv(night: SimulatedNight, path: Path) -> None:
    """The BIDS-style events table of the night's truth."""
    floor_uv = detection_floor(night.params.to_dict())["floor_uv"]
    lines = ["\t".join(EVENT_COLUMNS)]
    for e in night.truth:
        fasc = e.kind == FASCICULATION
        detectable = ("true" if is_detectable(e, floor_uv) else "false") if fasc else "n/a"
        overlaps = ("true" if e.overlaps else "false") if fasc else "n/a"
        lines.append("\t".join([
            f"{e.onset_s:.6f}", f"{e.duration_s:.6f}", e.kind, e.channel, str(e.unit),
            f"{e.peak_to_peak_uv:.6f}", e.detail or "n/a", detectable, overlaps,
        ]))
    write_atomic(path, "\n".join(lines) + "\n")


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def write_truth_json(night: SimulatedNight, path: Path, recording_name: str) -> None:
    """Truth summary, stream info, unit tables and events as one JSON document."""
    info = night.info
    doc = {
        "format": "calfwatch-simulation-truth",
        "version": 1,
        "recording": recording_name,
        "annotation_text": "<kind>@@<channel>",
        "info": {
            "sfreq_hz": info.sfreq_hz, "ch_names": info.ch_names,
            "meas_date": info.meas_date.isoformat(), "resolution_bits": info.resolution_bits,
            "uv_per_count": info.uv_per_count, "device": info.device,
            "n_samples": night.n_samples,
        },
        "summary": night.truth_summary(),
        "units": {
            plan.name: {"fasciculating": plan.units.fasc.table(), "pool_units": plan.units.pool.n_units}
            for plan in night.schedule.channels
        },
        "events": [e.to_dict() for e in night.truth],
    }
    write_atomic(path, json.dumps(_jsonable(doc), indent=1) + "\n")
