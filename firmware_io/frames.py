"""What every decoder returns: a batch of decoded samples, the running statistics, and events.

A decoder is fed bytes in any chunking with ``decoder.feed(data) -> FrameBatch`` and keeps the
incomplete tail for the next call. One feed call returns one :class:`FrameBatch` holding all the samples
of the frames completed by that call, as numpy arrays (never one Python object per frame), so a reader
thread can hand them on without a per-sample loop.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass
class DecoderStats:
    """Running counts of one decoder since it was created.

    Attributes
    ----------
    bytes_in : int
        Bytes fed.
    bytes_skipped : int
        Bytes discarded while searching for a frame boundary (garbage, damaged frames, text).
    crc_failures : int
        Frames (or lines) whose checksum or structure check failed; none of them was yielded.
    counter_errors : int
        Frames whose integrity check passed but whose counter contradicted both neighbours; dropped.
    frames_ok : int
        Data frames (or lines) yielded.
    samples_ok : int
        Samples (per channel) yielded.
    sequence_gaps : int
        Places where the counter skipped ahead.
    samples_missing : int
        Samples (per channel) the counters say were lost (modulo the counter width, see ``ambiguous_gaps``).
    ambiguous_gaps : int
        Gaps of half the counter modulus or more: with a 256- or 16-frame counter, a loss longer than a
        wrap cannot be told from a shorter one, so ``samples_missing`` may undercount them.
    resets : int
        Device resets seen (counter restarted, new boot id).
    control_frames : int
        Non-data frames decoded (info, acknowledgements).
    """

    bytes_in: int = 0
    bytes_skipped: int = 0
    crc_failures: int = 0
    counter_errors: int = 0
    frames_ok: int = 0
    samples_ok: int = 0
    sequence_gaps: int = 0
    samples_missing: int = 0
    ambiguous_gaps: int = 0
    resets: int = 0
    control_frames: int = 0

    def as_dict(self) -> dict:
        """Return the counts as a plain dict."""
        return asdict(self)


@dataclass
class FrameBatch:
    """Samples decoded by one ``feed`` call.

    Attributes
    ----------
    counts : ndarray of float64, shape (n_channels, n)
        Raw device values (ADC counts; exact integers for the binary protocols). Convert with the
        decoder's ``to_uv``.
    sample_index : ndarray of int64, shape (n,)
        Position of each sample on the decoder's timeline: consecutive when nothing was lost, jumping
        over the samples the counters say are missing. A device reset continues the timeline without a
        jump (the host cannot know how long the device was down) and is reported in ``events``.
    counter : ndarray of int64, shape (n,)
        The device's own counter for each sample (-1 where the protocol has none).
    status : ndarray of uint8, shape (n,)
        Status flags of the frame each sample came from (calfwatch protocol; 0 elsewhere).
    events : list of dict
        In order: ``{"kind": "gap", "at_sample", "samples_missing", "ambiguous"}``,
        ``{"kind": "reset", "at_sample"}``, ``{"kind": "info", "info": DeviceInfo}``,
        ``{"kind": "ack", ...}``.
    """

    counts: np.ndarray
    sample_index: np.ndarray
    counter: np.ndarray
    status: np.ndarray
    events: list = field(default_factory=list)

    @property
    def n_samples(self) -> int:
        """Number of samples in the batch."""
        return int(self.sample_index.shape[0])

    @classmethod
    def empty(cls, n_channels: int) -> FrameBatch:
        """A batch with no samples."""
        return cls(
            counts=np.zeros((n_channels, 0)),
            sample_index=np.zeros(0, np.int64),
            counter=np.zeros(0, np.int64),
            status=np.zeros(0, np.uint8),
        )


def concat_batches(batches: list[FrameBatch], n_channels: int) -> FrameBatch:
    """Join batches in order (for tests and offline decoding)."""
    if not batches:
        return FrameBatch.empty(n_channels)
    events = [e for b in batches for e in b.events]
    batches = [b for b in batches if b.n_samples] or [FrameBatch.empty(n_channels)]
    return FrameBatch(
        counts=np.concatenate([b.counts for b in batches], axis=1),
        sample_index=np.concatenate([b.sample_index for b in batches]),
        counter=np.concatenate([b.counter for b in batches]),
        status=np.concatenate([b.status for b in batches]),
        events=events,
    )


#: a jump of an unbounded counter larger than this (about 12 days at 2 kHz) is taken as a restart
MAX_UNBOUNDED_JUMP = 2**31


class SequenceTracker:
    """Turn device counters into timeline positions, gaps and resets, vectorised per batch.

    Parameters
    ----------
    modulus : int or None
        Counter width (2**32, 256, 16); None for an unbounded integer counter (ASCII counter column),
        where a decrease means a reset.
    """

    def __init__(self, modulus: int | None) -> None:
        self.modulus = modulus
        self.next_index = 0
        self._expected: int | None = None

    def track(
        self,
        counters: np.ndarray,
        n_per_frame: np.ndarray,
        stats: DecoderStats,
        events: list,
        reset_flags: np.ndarray | None = None,
    ) -> np.ndarray:
        """Return the timeline index of each frame's first sample and record gaps and resets.

        Parameters
        ----------
        counters : ndarray of int64, shape (n_frames,)
            Counter of each frame (of its first sample when the counter counts samples).
        n_per_frame : ndarray of int64, shape (n_frames,)
            How far the counter advances per frame (1 for frame counters, samples per frame otherwise).
        stats, events
            Updated in place.
        reset_flags : ndarray of bool, optional
            Frames known to start a new device session (calfwatch boot id changed).
        """
        n = counters.shape[0]
        if n == 0:
            return np.zeros(0, np.int64)
        counters = counters.astype(np.int64)
        n_per_frame = n_per_frame.astype(np.int64)
        missing, reset = self._missing(counters, n_per_frame, reset_flags)
        steps = np.empty(n, np.int64)
        steps[0] = self.next_index + missing[0]
        steps[1:] = n_per_frame[:-1] + missing[1:]
        starts = np.cumsum(steps)
        self._report(starts, missing, reset, stats, events)
        self.next_index = int(starts[-1] + n_per_frame[-1])
        last = int(counters[-1] + n_per_frame[-1])
        self._expected = last if self.modulus is None else last % self.modulus
        return starts

    def _missing(self, counters: np.ndarray, n_per_frame: np.ndarray,
                 reset_flags: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Samples missing before each frame (0 at a reset), and which frames start a new session."""
        n = counters.shape[0]
        expected = np.empty(n, np.int64)
        expected[1:] = counters[:-1] + n_per_frame[:-1]
        expected[0] = counters[0] if self._expected is None else self._expected
        if self.modulus is None:  # an unbounded counter: a decrease or an absurd jump is a restart
            delta = counters - expected
            reset = (delta < 0) | (delta > MAX_UNBOUNDED_JUMP)
        else:
            delta = (counters - expected) % self.modulus
            reset = np.zeros(n, bool)
            if self.modulus > 2**16:  # exact counters: a jump backwards is a restart
                reset = delta >= self.modulus // 2
        if reset_flags is not None:
            reset |= reset_flags
        if self._expected is None:
            reset[0] = False
            delta[0] = 0
        return np.where(reset, 0, delta), reset

    def _report(self, starts: np.ndarray, missing: np.ndarray, reset: np.ndarray,
                stats: DecoderStats, events: list) -> None:
        """Count and list the resets and gaps before the frames starting at ``starts``."""
        for k in np.flatnonzero(reset | (missing > 0)):
            if reset[k]:
                stats.resets += 1
                events.append({"kind": "reset", "at_sample": int(starts[k])})
                continue
            amb = self.modulus is not None and self.modulus <= 2**16 and (
                missing[k] >= self.modulus // 2
            )
            stats.sequence_gaps += 1
            stats.samples_missing += int(missing[k])
            stats.ambiguous_gaps += int(amb)
            events.append({"kind": "gap", "at_sample": int(starts[k] - missing[k]),
                           "samples_missing": int(missing[k]), "ambiguous": bool(amb)})
