"""``calfwatch analyze FOLDER`` as a batch: in one process, on a real dask.distributed LocalCluster
through ``--scheduler`` and with ``--jobs 2``, with one bad file among short simulated nights.

Every run must give the same cohort table, the same output files as analysing each file alone, and
the same history (written by the client only); the bad file is one row with its error, and the batch
goes on past it.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import socket
import sqlite3
import struct
import subprocess
import sys
import termios
from contextlib import contextmanager
from pathlib import Path

import pytest

from calfwatch.cohort import read_cohort_csv
from calfwatch.simulator import load_profile, simulate_night, write_simulation

#: (name, seed, start): short nights on different dates, so the history holds one per date.
NIGHTS = [("n1", 1, "2026-03-01T22:00:00+00:00"), ("n2", 2, "2026-03-02T22:10:00+00:00"),
          ("n4", 4, "2026-03-04T21:50:00+00:00"), ("n5", 5, "2026-03-05T22:05:00+00:00")]
BAD = "n3_bad.edf"  # sorts among the good ones


def _cli(*args: str, cwd: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calfwatch", *args], capture_output=True,
                          text=True, timeout=600, cwd=cwd, **kw)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Path:
    """A folder ``recs/`` of four 60-s simulated nights and a truncated EDF."""
    root = tmp_path_factory.mktemp("batch")
    for name, seed, start in NIGHTS:
        params = load_profile("benign-night", duration_s=60.0, meas_date=start,
                              fasc_rate_per_min=6.0)
        write_simulation(simulate_night(params, seed=seed), root / "recs" / f"{name}.edf")
    good = (root / "recs" / "n1.edf").read_bytes()
    (root / "recs" / BAD).write_bytes(good[:700])
    return root


def _analyze(root: Path, out: str, *extra: str, **kw) -> subprocess.CompletedProcess:
    return _cli("analyze", "recs", "--out", out, "--subject", "p1", "--side", "left",
                "--history", f"{out}.sqlite", "--quiet", *extra, cwd=root, **kw)


@pytest.fixture(scope="module")
def serial(recordings) -> subprocess.CompletedProcess:
    return _analyze(recordings, "serial")


def _history(path: Path) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT subject, side, night_date, start_utc, fasciculations, "
                          "summary_json FROM nights ORDER BY start_utc").fetchall()
    finally:
        db.close()


def _same_outputs(root: Path, a: str, b: str) -> None:
    assert (root / a / "cohort.csv").read_bytes() == (root / b / "cohort.csv").read_bytes()
    for name, _, _ in NIGHTS:
        for file in ("events.tsv", "annotations.txt", "summary.json"):
            assert (root / a / name / file).read_bytes() == (root / b / name / file).read_bytes()
    assert _history(root / f"{a}.sqlite") == _history(root / f"{b}.sqlite")


def test_serial_batch_goes_on_past_the_bad_file_and_writes_one_row_each(recordings, serial):
    assert serial.returncode == 1
    assert f"recs/{BAD}" in serial.stderr and "1 of 5 recordings failed" in serial.stderr
    rows = read_cohort_csv(recordings / "serial" / "cohort.csv")
    assert [r["recording"] for r in rows] == ["recs/n1.edf", "recs/n2.edf", f"recs/{BAD}",
                                              "recs/n4.edf", "recs/n5.edf"]
    bad = rows[2]
    assert bad["error"].startswith(f"recs/{BAD}: ") and bad["rest_min"] is None
    good = [r for r in rows if r is not bad]
    assert all(r["error"] == "" and r["assessment"] for r in good)
    assert [r["night_date"] for r in good] == ["2026-03-01", "2026-03-02", "2026-03-04",
                                               "2026-03-05"]
    for row, (name, _, _) in zip(good, NIGHTS, strict=True):
        summary = json.loads((recordings / "serial" / name / "summary.json").read_text())
        assert row["output"] == name and row["subject"] == "p1" and row["side"] == "left"
        assert row["fasciculations_rest"] == summary["fasciculations"]
        assert row["fasc_per_min_rest_ci_low"] < row["fasc_per_min_rest"] \
            < row["fasc_per_min_rest_ci_high"]
    # piped: no progress bar on stderr
    assert "\r" not in serial.stderr and "file/s" not in serial.stderr


def test_batch_outputs_and_history_equal_files_analysed_one_by_one(recordings, serial):
    """Today's way: one command per file, in order, each reading the history the last one wrote."""
    for name, _, _ in NIGHTS:
        proc = _cli("analyze", f"recs/{name}.edf", "--out", f"single/{name}", "--subject", "p1",
                    "--side", "left", "--history", "single.sqlite", "--quiet", cwd=recordings)
        assert proc.returncode == 4, proc.stderr  # a minute of rest: written, not evaluable
    for name, _, _ in NIGHTS:
        for file in ("events.tsv", "annotations.txt"):
            assert (recordings / "serial" / name / file).read_bytes() == (
                recordings / "single" / name / file).read_bytes()
        batch = json.loads((recordings / "serial" / name / "summary.json").read_text())
        alone = json.loads((recordings / "single" / name / "summary.json").read_text())
        assert batch == alone
    assert [r[:5] for r in _history(recordings / "serial.sqlite")] == [
        r[:5] for r in _history(recordings / "single.sqlite")]
    assert len(_history(recordings / "serial.sqlite")) == len(NIGHTS)


def test_scheduler_on_a_local_cluster_gives_the_same_table_files_and_history(recordings, serial):
    distributed = pytest.importorskip("distributed")
    from calfwatch.batch.engines import threads_by_worker, usable_cores

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0") as cluster:
        proc = _analyze(recordings, "cluster", "--scheduler", cluster.scheduler_address)
        with distributed.Client(cluster) as client:
            # two single-threaded workers on this host share its cores
            assert threads_by_worker(client) == dict.fromkeys(
                client.scheduler_info()["workers"], max(1, usable_cores() // 2))
    assert proc.returncode == 1, proc.stderr
    assert f"calfwatch: error: recs/{BAD}: " in proc.stderr
    _same_outputs(recordings, "serial", "cluster")


def test_jobs_2_gives_the_same_table_files_and_history(recordings, serial):
    pytest.importorskip("distributed")
    with _port_held(8787):  # Dask's dashboard port: another batch (or dashboard) may hold it
        proc = _analyze(recordings, "jobs2", "--jobs", "2")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == serial.stderr  # the same lines; no warning from Dask about its port
    _same_outputs(recordings, "serial", "jobs2")


@contextmanager
def _port_held(port: int):
    """Listen on ``port`` of this machine meanwhile (when nothing else holds it already)."""
    with socket.socket() as sock:
        try:
            sock.bind(("", port))
            sock.listen()
        except OSError:  # held already: by what the test needs, or a peer
            pass
        yield


def test_jobs_without_distributed_is_one_clear_line(recordings, tmp_path):
    hide = tmp_path / "hide"
    (hide / "distributed").mkdir(parents=True)
    (hide / "distributed" / "__init__.py").write_text("raise ImportError('not installed')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hide), os.environ.get(
        "PYTHONPATH", "")])}
    proc = _cli("analyze", "recs", "--out", str(tmp_path / "o"), "--jobs", "2", cwd=recordings,
                env=env)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "calfwatch: error: --jobs 2 needs dask.distributed: pip install 'calfwatch[cluster]'"]
    assert not (tmp_path / "o").exists()


def test_progress_bar_on_a_terminal_counts_done_failed_and_left(recordings, tmp_path):
    main, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "calfwatch", "analyze", f"recs/{BAD}", "recs/n1.edf",
             "--out", str(tmp_path / "o"), "--quiet"], cwd=recordings, stdout=subprocess.PIPE,
            stderr=side, timeout=600)
        os.close(side)
        chunks = []
        while True:
            try:
                data = os.read(main, 65536)
            except OSError:  # EIO: the other end is closed
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(main)
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 1
    assert "done 1, failed 1, left 0" in terminal and "2/2" in terminal
    assert "file/s" in terminal or "s/file" in terminal


def test_bids_root_goes_to_derivatives_with_subject_and_session(recordings, tmp_path):
    root = tmp_path / "ds"
    emg = {("01", "n1"): root / "sub-01" / "ses-n1" / "emg" / "sub-01_ses-n1_task-sleep_emg.edf",
           ("02", ""): root / "sub-02" / "emg" / "sub-02_task-sleep_emg.edf"}
    for path, source in zip(emg.values(), ("n1", "n2"), strict=True):
        path.parent.mkdir(parents=True)
        path.write_bytes((recordings / "recs" / f"{source}.edf").read_bytes())
    (root / "dataset_description.json").write_text('{"Name": "t", "BIDSVersion": "1.10.0"}')
    proc = _cli("analyze", str(root), "--quiet", cwd=tmp_path)
    assert proc.returncode == 4, proc.stderr  # a minute of rest each: written, not evaluable
    table = root / "derivatives" / "calfwatch" / "cohort.csv"
    rows = read_cohort_csv(table)
    assert [(r["subject"], r["session"]) for r in rows] == list(emg)
    for row, path in zip(rows, emg.values(), strict=True):
        out = table.parent / row["output"]
        assert out == table.parent / path.parent.relative_to(root) / path.name[:-4]
        assert json.loads((out / "summary.json").read_text())["fasciculations"] == \
            row["fasciculations_rest"]


@pytest.mark.slow
def test_ctrl_c_stops_a_jobs_batch_with_one_line(recordings, tmp_path):
    """Ctrl-C reaches every process of the terminal's group: the workers ignore it, and the
    command stops them and says so in one line (exit 130), with no worker's traceback."""
    pytest.importorskip("distributed")
    import signal

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(200):  # links: each a recording of its own, and far more than a run needs
        os.link(recordings / "recs" / "n1.edf", folder / f"night{i:03d}.edf")
    proc = subprocess.Popen([sys.executable, "-m", "calfwatch", "analyze", str(folder), "--out",
                             str(tmp_path / "out"), "--jobs", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    for line in proc.stdout:  # the workers are running: the first night is written
        if line.startswith("wrote"):
            break
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    said = [line for line in err.strip().splitlines()  # on a cold cache, the compile notice
            if not line.startswith("calfwatch: preparing the signal kernels")]
    assert "Traceback" not in err and said == ["calfwatch: interrupted"], err
