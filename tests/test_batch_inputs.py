"""What a batch analyses and where each recording's outputs go: folders searched, a BIDS root,
and output folders that never collide."""

from __future__ import annotations

from pathlib import Path

import pytest

from calfwatch.batch.inputs import BIDS_DERIVATIVES, plan_batch


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_same_name_in_two_folders_gets_two_output_folders(tmp_path):
    a = _touch(tmp_path / "d1" / "night.bdf")
    b = _touch(tmp_path / "d2" / "night.edf")
    batch = plan_batch([str(a), str(b)], str(tmp_path / "coll"))
    outs = [Path(j.out_dir) for j in batch.jobs]
    assert outs == [tmp_path / "coll" / "d1" / "night", tmp_path / "coll" / "d2" / "night"]
    assert batch.is_batch and batch.cohort_dir == tmp_path / "coll"


def test_one_folder_keeps_one_sub_folder_per_name_and_splits_same_stems(tmp_path):
    files = [_touch(tmp_path / n) for n in ("a.edf", "night.edf", "night.bdf")]
    batch = plan_batch([str(f) for f in files], str(tmp_path / "out"))
    names = [Path(j.out_dir).relative_to(tmp_path / "out").as_posix() for j in batch.jobs]
    assert names == ["a", "night_edf", "night_bdf"]
    beside = plan_batch([str(f) for f in files], None)
    assert [Path(j.out_dir).name for j in beside.jobs] == [
        "a_analysis", "night_edf_analysis", "night_bdf_analysis"]
    assert beside.cohort_dir == tmp_path


def test_a_name_made_of_stem_and_extension_never_takes_another_recordings(tmp_path):
    """a.edf beside a.bdf would be a_edf, the name of a_edf.bdf beside them: one folder would
    hold two analyses, the later overwriting the earlier."""
    files = [_touch(tmp_path / n) for n in ("a.bdf", "a.edf", "a_edf.bdf", "a_edf-2.edf")]
    for out in (str(tmp_path / "out"), None):
        dirs = [Path(j.out_dir) for j in plan_batch([str(f) for f in files], out).jobs]
        assert len(set(dirs)) == len(files)
    names = [Path(j.out_dir).name for j in plan_batch([str(f) for f in files], None).jobs]
    assert names[2:] == ["a_edf_analysis", "a_edf-2_analysis"]  # each keeps its own stem


def test_a_batch_run_again_into_an_out_inside_its_folder_takes_no_output_in(tmp_path):
    """The outputs of an analysis (summary.json, events.tsv, events.edf) in --out inside the
    folder searched are not recordings: a second run finds what the first found."""
    nights = [_touch(tmp_path / n) for n in ("a.edf", "b.edf")]
    for night in nights:
        out = tmp_path / "results" / night.stem
        for name in ("summary.json", "events.tsv", "events.edf"):
            _touch(out / name)
    batch = plan_batch([str(tmp_path)], str(tmp_path / "results"))
    assert [Path(j.path) for j in batch.jobs] == nights


def test_folder_search_is_sorted_recursive_and_skips_outputs_and_hidden(tmp_path):
    wanted = [_touch(tmp_path / p) for p in
              ("a/n1.edf", "a/n2_raw.fif", "b/rec.hea", "c.bdf")]
    for other in ("a/n1_analysis/x.edf", ".hidden/h.edf", "a/n2_raw-1.fif", "b/rec.dat",
                  "a/events.tsv", "notes.txt", "a/table.csv"):
        _touch(tmp_path / other)
    batch = plan_batch([str(tmp_path)], None)
    # each folder's files (sorted), then its sub-folders (sorted)
    assert [Path(j.path) for j in batch.jobs] == [wanted[3], wanted[0], wanted[1], wanted[2]]
    assert batch.is_batch


def test_a_file_named_twice_is_analysed_once(tmp_path):
    f = _touch(tmp_path / "n.edf")
    batch = plan_batch([str(f), str(tmp_path)], str(tmp_path / "o"))
    assert [Path(j.path).name for j in batch.jobs] == ["n.edf"]


def test_bids_root_gives_subject_session_and_derivatives(tmp_path):
    root = tmp_path / "ds"
    _touch(root / "dataset_description.json")
    a = _touch(root / "sub-01" / "ses-n1" / "emg" / "sub-01_ses-n1_task-sleep_emg.edf")
    b = _touch(root / "sub-02" / "emg" / "sub-02_task-sleep_emg.bdf")
    _touch(root / "sub-02" / "emg" / "sub-02_task-sleep_channels.tsv")
    _touch(root / "derivatives" / "x" / "sub-03_task-sleep_emg.edf")
    batch = plan_batch([str(root)], None)
    assert [(Path(j.path), j.subject, j.session) for j in batch.jobs] == [
        (a, "01", "n1"), (b, "02", "")]
    assert batch.cohort_dir == root / BIDS_DERIVATIVES
    assert Path(batch.jobs[0].out_dir) == (
        root / BIDS_DERIVATIVES / "sub-01" / "ses-n1" / "emg" / "sub-01_ses-n1_task-sleep_emg")


def test_single_file_keeps_todays_folders(tmp_path):
    f = _touch(tmp_path / "night.edf")
    assert Path(plan_batch([str(f)], None).jobs[0].out_dir) == tmp_path / "night_analysis"
    one = plan_batch([str(f)], str(tmp_path / "o"))
    assert not one.is_batch and Path(one.jobs[0].out_dir) == tmp_path / "o"


def test_folder_without_recordings_is_one_error_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        plan_batch([str(tmp_path)], None)
    assert str(tmp_path) in str(info.value)


def test_a_folder_search_takes_a_rec_file_that_is_edf_and_passes_over_another(tmp_path):
    """PhysioNet's Sleep-EDF names its EDF files ``.rec``; other programs write text and more
    under that suffix. ``calfwatch analyze FOLDER`` analyses the first (its output folder named
    without ``.rec``) and passes over the second without a word, as over any file it does not
    look for."""
    from report_nights import run_cli, simulate_edf

    from calfwatch.cohort import read_cohort_csv

    recs = tmp_path / "recs"
    edf = simulate_edf(tmp_path / "night.edf", duration_s=60.0, seed=4, profile="benign-night")
    recs.mkdir()
    (recs / "SC4001E0-PSG.rec").write_bytes(edf.read_bytes())
    (recs / "session.rec").write_text("2026-01-05 22:00 recorder started\n")
    assert [Path(j.path).name for j in plan_batch([str(recs)], None).jobs] == [
        "SC4001E0-PSG.rec"]
    code, out, err = run_cli("analyze", recs, "--out", tmp_path / "out", "--quiet")
    assert code in (0, 4), err  # 4: a minute of rest, written but not evaluable
    rows = read_cohort_csv(tmp_path / "out" / "cohort.csv")
    assert [(Path(r["recording"]).name, r["output"], r["error"]) for r in rows] == [
        ("SC4001E0-PSG.rec", "SC4001E0-PSG", "")]
    assert (tmp_path / "out" / "SC4001E0-PSG" / "summary.json").is_file()
    assert "session" not in out + err
    assert [p.name for p in (tmp_path / "out").iterdir() if p.is_dir()] == ["SC4001E0-PSG"]
