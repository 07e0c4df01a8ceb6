"""A Lab Streaming Layer stream as a :class:`~acquisition.stream.SampleStream` (``--device lsl``).

Any LSL signal stream (OpenBCI GUI, a BrainFlow app, LabRecorder's peers, another calfwatch) is
recorded like a serial device: :class:`LslSource` resolves the stream by name, reads its channel
labels and units from the stream description, and places every sample on the timeline by its LSL
time stamp. A sample later than the stream's nominal rate puts it by more than ``gap_tolerance_s``
starts after a gap: the missing samples become a gap chunk (``"stream gap"``), counted lost, never
filled. A float stream may also send values that are not a voltage (NaN, which some senders push
for a dropout; infinity; beyond :data:`~acquisition.stream.MAX_SAMPLE_UV`): such a sample is lost
on every channel (``"invalid sample"``), at its place, rather than end the night or be written
as a rail (:func:`invalid_runs`). Needs ``pylsl`` (``pip install 'calfwatch[lsl]'``), which
ships liblsl.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from acquisition._chunk_queue import gap_chunk
from acquisition.stream import MAX_SAMPLE_UV, SampleChunk, StreamInfo

logger = logging.getLogger("calfwatch.acquisition")

#: Reason given to the gap chunks of a stream.
GAP_REASON = "stream gap"
#: Reason given to samples that are not a voltage (NaN, infinite, beyond MAX_SAMPLE_UV).
INVALID_REASON = "invalid sample"
#: Scale of the recorded file for LSL streams (float samples): 0.01 µV steps, +-83 mV in 24 bits.
LSL_UV_PER_COUNT = 0.01
#: Units an LSL channel may declare, and their factor to µV (XDF names them "microvolts").
UNIT_TO_UV = {"microvolts": 1.0, "microvolt": 1.0, "uv": 1.0, "µv": 1.0, "μv": 1.0,
              "millivolts": 1e3, "millivolt": 1e3, "mv": 1e3, "volts": 1e6, "volt": 1e6, "v": 1e6}
#: Numeric LSL channel formats (float32, double64, int32, int16).
_FORMATS = (1, 2, 4, 5)
#: Weight with which the stamp-to-timeline offset follows each chunk (slow clock drift, jitter).
_ANCHOR_GAIN = 0.05
_PULL_MAX = 4096
#: Longest wait of one pull (how fast a stop is noticed).
_PULL_WAIT_S = 0.1


class LslUnavailable(RuntimeError):
    """pylsl (and so liblsl) is not installed."""


class LslStreamError(OSError):
    """The stream is not there or cannot be recorded; the message names it."""


def require_pylsl():
    """Import pylsl, or raise :class:`LslUnavailable` saying how to install it.

    Unless the user configures liblsl (``$LSLAPICFG`` or an ``lsl_api.cfg`` where liblsl looks),
    its log is limited to fatal errors: its start-up lines and connection notices would otherwise
    mix with the output (a stream that stops is reported by :class:`LslSource` itself).
    """
    try:
        import pylsl
    except ImportError:
        raise LslUnavailable("Lab Streaming Layer needs pylsl: pip install 'calfwatch[lsl]'") from None
    except RuntimeError as exc:  # pylsl present, liblsl not loadable
        raise LslUnavailable(f"Lab Streaming Layer library not usable: {exc}") from None
    global _CONFIGURED
    if not _CONFIGURED:
        _CONFIGURED = True
        if not _user_lsl_config():
            pylsl.set_config_content("[log]\nlevel = -3\n")
    return pylsl


_CONFIGURED = False


def _user_lsl_config() -> bool:
    """Whether liblsl would read a configuration of the user's own."""
    if os.environ.get("LSLAPICFG"):
        return True
    places = (Path("lsl_api.cfg"), Path.home() / "lsl_api" / "lsl_api.cfg",
              Path("/etc/lsl_api/lsl_api.cfg"))
    return any(p.is_file() for p in places)


def list_lsl_streams(wait_s: float = 1.0) -> list[dict]:
    """The LSL streams visible within ``wait_s``: name, type, channels, rate, format, source, host.

    Raises
    ------
    LslUnavailable
        pylsl is not installed.
    """
    pylsl = require_pylsl()
    out = []
    for info in pylsl.resolve_streams(wait_s):
        out.append({"name": info.name(), "type": info.type(), "channels": info.channel_count(),
                    "sfreq_hz": info.nominal_srate(), "format": info.channel_format(),
                    "source_id": info.source_id(), "hostname": info.hostname()})
    return sorted(out, key=lambda s: (s["name"], s["source_id"]))


def stream_channels(info) -> list[tuple[str, str]]:
    """``(label, unit)`` of each channel in an LSL stream description (empty strings if absent)."""
    labels = []
    ch = info.desc().child("channels").child("channel")
    while not ch.empty() and len(labels) < info.channel_count():
        labels.append((ch.child_value("label").strip(), ch.child_value("unit").strip()))
        ch = ch.next_sibling()
    if len(labels) != info.channel_count():
        return [("", "")] * info.channel_count()
    return labels


def uv_factors(units: list[str], name: str) -> np.ndarray:
    """Factor to µV per channel; a channel without a unit is taken as µV (OpenBCI, BrainFlow).

    Raises
    ------
    LslStreamError
        A channel declares a unit that is not a voltage.
    """
    factors = []
    for unit in units:
        key = unit.strip().lower()
        if not key:
            factors.append(1.0)
        elif key in UNIT_TO_UV:
            factors.append(UNIT_TO_UV[key])
        else:
            raise LslStreamError(f"{name}: channel unit {unit!r} is not a voltage "
                                 "(microvolts, millivolts or volts)")
    return np.array(factors, dtype=np.float64)[:, np.newaxis]


def invalid_runs(data_uv: np.ndarray) -> list[tuple[int, int, bool]]:
    """Runs ``(start, stop, valid)`` of the time samples of ``data_uv`` (channels x samples)
    that hold a voltage on every channel, or not (NaN, infinite, or larger than
    :data:`~acquisition.stream.MAX_SAMPLE_UV` on any channel).

    A sample cannot be lost on one channel only (a gap spans every channel): one that is not a
    voltage on any channel is lost on all of them, and counted.

    Examples
    --------
    >>> invalid_runs(np.array([[1.0, np.nan, np.inf, 2.0, 3.0], [1.0, 1.0, 1.0, 1e300, 1.0]]))
    [(0, 1, True), (1, 4, False), (4, 5, True)]
    >>> invalid_runs(np.zeros((2, 3)))
    [(0, 3, True)]
    """
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(data_uv) <= MAX_SAMPLE_UV).all(axis=0)  # NaN compares False
    n = bad.size
    if not bad.any():
        return [(0, n, True)] if n else []
    edges = np.flatnonzero(np.diff(bad)) + 1
    bounds = [0, *edges.tolist(), n]
    return [(a, b, not bool(bad[a])) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


class StampPlacer:
    """Places the samples of a stream on the timeline by their time stamps.

    Sample ``k`` of the timeline is expected at ``offset + k / sfreq_hz``; a sample stamped more
    than ``tolerance_s`` later starts after a gap of as many samples as the delay holds. The
    offset follows each chunk by :data:`_ANCHOR_GAIN` of its remaining delay, so jitter and
    slow drift of the sender's clock against its nominal rate are absorbed, not taken as gaps.

    Parameters
    ----------
    sfreq_hz : float
        The stream's nominal rate.
    tolerance_s : float
        Delay beyond which samples are missing.
    """

    def __init__(self, sfreq_hz: float, tolerance_s: float) -> None:
        self.sfreq_hz = float(sfreq_hz)
        self.tolerance_s = float(tolerance_s)
        self.next_sample = 0
        self._offset: float | None = None

    def place(self, stamps: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Pieces ``(i_from, i_to, start_sample, lost_before)`` of one chunk's samples.

        ``lost_before`` samples of the timeline precede each piece and were not received.
        """
        stamps = np.asarray(stamps, dtype=np.float64)
        if self._offset is None and len(stamps):
            self._offset = float(stamps[0])
        pieces, i, n = [], 0, len(stamps)
        late = np.zeros(0)
        while i < n:
            expected = self._offset + (self.next_sample + np.arange(n - i)) / self.sfreq_hz
            late = stamps[i:] - expected
            jumps = np.flatnonzero(late > self.tolerance_s)
            lost = 0
            if len(jumps) and jumps[0] == 0:
                lost = int(round(late[0] * self.sfreq_hz))
                self.next_sample += lost
                late = late - lost / self.sfreq_hz
                jumps = np.flatnonzero(late > self.tolerance_s)
            stop = n if not len(jumps) else i + int(jumps[0])
            pieces.append((i, stop, self.next_sample, lost))
            self.next_sample += stop - i
            late = late[: stop - i]
            i = stop
        if len(late):
            self._offset += _ANCHOR_GAIN * float(late[-1])
        return pieces


class PullPlacer:
    """The timeline chunks each pull of an LSL inlet makes: data where every channel holds a
    voltage, gaps where the stamps (:class:`StampPlacer`) or the values (:func:`invalid_runs`)
    say samples were lost, counted in ``counters`` (``samples_received``, ``samples_lost`` by
    reason, ``gaps``).

    Invalid samples that end a pull are held until the next pull shows whether they go on
    (:meth:`release` gives them up): a dropout the sender delivered over two pulls is one gap,
    not two that touch.

    Parameters
    ----------
    sfreq_hz, gap_tolerance_s : float
        The stream's nominal rate, and the delay beyond which samples are missing.
    to_uv : ndarray, shape (n_channels, 1)
        µV per stream unit of each channel.
    counters : dict
        Where the samples received and lost are counted.

    Examples
    --------
    >>> counters = {"samples_received": 0, "samples_lost": {}, "gaps": 0}
    >>> placer = PullPlacer(1000.0, 0.05, np.ones((1, 1)), counters)
    >>> pull = np.array([[1.0], [np.nan], [np.nan]])  # samples x channels, as pylsl gives them
    >>> [(c.start_sample, c.n_samples, c.gap) for c in placer.place(pull, np.arange(3) / 1e3)]
    [(0, 1, False)]
    >>> pull = np.array([[np.nan], [2.0]])
    >>> [(c.start_sample, c.n_samples, c.gap) for c in placer.place(pull, np.arange(3, 5) / 1e3)]
    [(1, 3, True), (4, 1, False)]
    """

    def __init__(self, sfreq_hz: float, gap_tolerance_s: float, to_uv: np.ndarray,
                 counters: dict) -> None:
        self.stamps = StampPlacer(sfreq_hz, gap_tolerance_s)
        self.to_uv, self.counters = to_uv, counters
        self._held: tuple[int, int] | None = None  # (start, n) of invalid samples ending a pull

    def place(self, data: np.ndarray, stamps: np.ndarray) -> Iterator[SampleChunk]:
        """The chunks of one pull (``data`` samples x channels, and their stamps)."""
        uv = data.T.astype(np.float64) * self.to_uv
        for i_from, i_to, start, lost in self.stamps.place(stamps):
            if lost > 0:
                yield from self.release()
                yield self._lost(start - lost, lost, GAP_REASON)
            self.counters["samples_received"] += i_to - i_from
            for a, b, valid in invalid_runs(uv[:, i_from:i_to]):
                if valid:
                    yield from self.release()
                    yield SampleChunk(start + a, uv[:, i_from + a : i_from + b])
                else:
                    yield from self._hold(start + a, b - a)

    def release(self) -> Iterator[SampleChunk]:
        """The held invalid samples as one gap chunk (nothing when none is held)."""
        if self._held is not None:
            (start, n_samples), self._held = self._held, None
            yield self._lost(start, n_samples, INVALID_REASON)

    def _hold(self, start: int, n_samples: int) -> Iterator[SampleChunk]:
        held = self._held
        if held is not None and held[0] + held[1] == start:
            self._held = (held[0], held[1] + n_samples)
            return
        yield from self.release()
        self._held = (start, n_samples)

    def _lost(self, start: int, n_samples: int, reason: str) -> SampleChunk:
        self.counters["gaps"] += 1
        counts = self.counters["samples_lost"]
        counts[reason] = counts.get(reason, 0) + n_samples
        return gap_chunk(start, len(self.to_uv), n_samples, reason)


class LslSource:
    """Samples of an LSL stream, in µV, with lost spans as gap chunks.

    Parameters
    ----------
    name : str
        The stream's name (``calfwatch devices`` lists the streams seen).
    fallback_names : callable, optional
        ``n_channels -> names`` when the stream does not label its channels (default
        ``emg1``...).
    resolve_timeout_s : float
        How long to look for the stream, then for its first samples.
    gap_tolerance_s : float
        A sample stamped this much later than the nominal rate places it starts after a gap.
    stall_s : float
        No sample for this long shows the stream as disconnected (the inlet keeps trying).
    max_buffer_s : float
        Seconds the inlet buffers while the consumer is busy; older samples are dropped by LSL
        and come back as a gap.
    site : str
        Recording site stored in the device facts.

    Raises
    ------
    LslUnavailable
        pylsl is not installed.
    LslStreamError
        No stream of that name, an irregular or non-numeric stream, a unit that is not a voltage,
        or no sample within ``resolve_timeout_s``.
    """

    def __init__(
        self,
        name: str,
        *,
        fallback_names: Callable[[int], list[str]] | None = None,
        resolve_timeout_s: float = 5.0,
        gap_tolerance_s: float = 0.05,
        stall_s: float = 5.0,
        max_buffer_s: float = 360.0,
        site: str = "",
    ) -> None:
        pylsl = require_pylsl()
        self.name, self.stall_s = name, float(stall_s)
        found = pylsl.resolve_byprop("name", name, 1, resolve_timeout_s)
        if not found:
            raise LslStreamError(f"{name}: no LSL stream of that name within "
                                 f"{resolve_timeout_s:g} s (calfwatch devices lists the streams)")
        self._inlet = pylsl.StreamInlet(found[0], max_buflen=max(1, int(max_buffer_s)),
                                        recover=True)
        full = self._inlet.info(resolve_timeout_s)
        sfreq, fmt = full.nominal_srate(), full.channel_format()
        if not sfreq > 0 or fmt not in _FORMATS:
            self._inlet.close_stream()
            raise LslStreamError(f"{name}: not a regular numeric signal stream (rate "
                                 f"{sfreq:g} Hz, channel format {fmt})")
        labels, units = zip(*stream_channels(full), strict=True)
        self._to_uv = uv_factors(list(units), name)
        n = full.channel_count()
        names = list(labels) if all(labels) and len(set(labels)) == n else None
        self._stop = threading.Event()
        self.counters = {"samples_received": 0, "samples_lost": {}, "gaps": 0, "reconnects": 0,
                         "stalls": 0}
        self._placer = PullPlacer(sfreq, gap_tolerance_s, self._to_uv, self.counters)
        self._last_data_s = time.monotonic()
        self._connected = True
        self._pending = self._first_pull(resolve_timeout_s)
        self._info = StreamInfo(
            sfreq_hz=float(sfreq),
            ch_names=names or (fallback_names or _emg_names)(n),
            meas_date=self._start_date(full),
            resolution_bits=24,
            uv_per_count=LSL_UV_PER_COUNT,
            device={"kind": "lsl", "port": name, "lsl_name": name, "lsl_type": full.type(),
                    "source_id": full.source_id(), "hostname": full.hostname(), "site": site},
        )
        logger.info("LSL stream %s: %d channel(s) at %g Hz from %s", name, n, sfreq,
                    full.hostname() or "?")


    # ------------------------------------------------------------------------------ stream API
    @property
    def info(self) -> StreamInfo:
        """The stream as the recorder and the engine see it."""
        return self._info

    def chunks(self) -> Iterator[SampleChunk]:
        """Yield chunks in timeline order (gaps included) until :meth:`close`."""
        pending, self._pending = self._pending, None
        if pending is not None:
            yield from self._placer.place(*pending)
        while not self._stop.is_set():
            got = self._pull(_PULL_WAIT_S)
            if got is None:
                yield from self._placer.release()  # nothing follows it yet: the run has ended
                self._check_stall()
                continue
            yield from self._placer.place(*got)
        yield from self._placer.release()

    def _pull(self, timeout_s: float) -> tuple[np.ndarray, np.ndarray] | None:
        data, stamps = self._inlet.pull_chunk(timeout=timeout_s, max_samples=_PULL_MAX,
                                              as_numpy=True)
        if not len(stamps):
            return None
        if self.counters["stalls"] and not self._connected:
            self.counters["reconnects"] += 1
        self._connected, self._last_data_s = True, time.monotonic()
        return np.asarray(data), np.asarray(stamps)

    def _first_pull(self, timeout_s: float) -> tuple[np.ndarray, np.ndarray]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            got = self._pull(_PULL_WAIT_S)
            if got is not None:
                return got
        self._inlet.close_stream()
        raise LslStreamError(f"{self.name}: no samples within {timeout_s:g} s; is the stream "
                             "sending?")

    def _check_stall(self) -> None:
        if self._connected and time.monotonic() - self._last_data_s > self.stall_s:
            self._connected = False
            self.counters["stalls"] += 1
            logger.warning("%s: no samples for %g s; waiting for the stream", self.name,
                           self.stall_s)

    def _start_date(self, full) -> datetime:
        """Wall-clock time of the first sample, from its stamp on this machine's LSL clock."""
        import pylsl

        try:
            correction = self._inlet.time_correction(timeout=2.0)
        except Exception:  # noqa: BLE001 - a sender that cannot be timed: its stamps as they are
            correction = 0.0
        age_s = max(0.0, pylsl.local_clock() - (float(self._pending[1][0]) + correction))
        return datetime.now(UTC) - timedelta(seconds=age_s)

    def close(self) -> None:
        """Stop and close the inlet. Safe to call twice."""
        self._stop.set()
        inlet, self._inlet = self._inlet, None
        if inlet is not None:
            inlet.close_stream()

    def request_stop(self) -> None:
        """Ask :meth:`chunks` to end at its next pull (safe from a signal handler)."""
        self._stop.set()

    def stop_requested(self) -> bool:
        """True once a stop was asked."""
        return self._stop.is_set()

    def stats(self) -> dict:
        """Counters so far (a copy): samples received and lost, gaps, stalls, connected."""
        out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.counters.items()}
        out["connected"] = self._connected
        return out


def _emg_names(n: int) -> list[str]:
    return [f"emg{i + 1}" for i in range(n)]
