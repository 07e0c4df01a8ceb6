"""ChainOutput: what the detection chain returns per chunk, and how to join several."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dsp.types import CANDIDATE_DTYPE, FEATURE_DTYPE, QUALITY_DTYPE, SNIPPET_LEN


@dataclass
class ChainOutput:
    """Results of one :meth:`dsp.chain.DetectionChain.process` or ``flush`` call.

    Attributes
    ----------
    candidates : ndarray of CANDIDATE_DTYPE
        Candidate potentials, sample indices absolute and corrected for the filter delay.
    features : ndarray of FEATURE_DTYPE
        Row-aligned with ``candidates``.
    snippets : ndarray, float32, shape (n_candidates, SNIPPET_LEN)
        Filtered waveform (µV) with the peak at index SNIPPET_LEN // 2; NaN outside the data.
    envelope_uv : ndarray, float64, shape (n_channels, n_frames)
        RMS of the band-passed signal per frame of ENVELOPE_HOP_S; NaN where under half of the
        frame is valid: lost data, and the ``settle_s`` after the start and after each gap.
    envelope_start_frame : int
        Absolute index of the first frame in ``envelope_uv`` and ``noise_uv``.
    noise_uv : ndarray, float64, shape (n_channels, n_frames)
        Robust noise floor (sigma, µV) on the same frames.
    quality : ndarray of QUALITY_DTYPE
        One row per channel per quality window completed.
    """

    candidates: np.ndarray
    features: np.ndarray
    snippets: np.ndarray
    envelope_uv: np.ndarray
    envelope_start_frame: int
    noise_uv: np.ndarray
    quality: np.ndarray

    @classmethod
    def empty(cls, n_channels: int, start_frame: int = 0) -> ChainOutput:
        """An output with no candidates, frames or quality rows."""
        return cls(
            candidates=np.zeros(0, CANDIDATE_DTYPE),
            features=np.zeros(0, FEATURE_DTYPE),
            snippets=np.zeros((0, SNIPPET_LEN), np.float32),
            envelope_uv=np.zeros((n_channels, 0)),
            envelope_start_frame=int(start_frame),
            noise_uv=np.zeros((n_channels, 0)),
            quality=np.zeros(0, QUALITY_DTYPE),
        )

    @property
    def n_frames(self) -> int:
        """Number of envelope frames in this output."""
        return int(self.envelope_uv.shape[1])


def concat_outputs(outputs: Sequence[ChainOutput], n_channels: int | None = None) -> ChainOutput:
    """Join consecutive outputs of one chain into one (frames must follow each other).

    Parameters
    ----------
    outputs : sequence of ChainOutput
        In the order they were returned.
    n_channels : int, optional
        Needed only when ``outputs`` is empty.
    """
    if not outputs:
        return ChainOutput.empty(n_channels or 0)
    start = outputs[0].envelope_start_frame
    expected = start
    for out in outputs:
        if out.n_frames and out.envelope_start_frame != expected:
            raise ValueError(
                f"outputs are not consecutive: frame {out.envelope_start_frame}, expected {expected}"
            )
        expected += out.n_frames
    with_rows = [o for o in outputs if len(o.candidates)] or outputs[:1]
    with_frames = [o for o in outputs if o.n_frames] or outputs[:1]
    with_quality = [o for o in outputs if len(o.quality)] or outputs[:1]
    return ChainOutput(
        candidates=np.concatenate([o.candidates for o in with_rows]),
        features=np.concatenate([o.features for o in with_rows]),
        snippets=np.concatenate([o.snippets for o in with_rows]),
        envelope_uv=np.concatenate([o.envelope_uv for o in with_frames], axis=1),
        envelope_start_frame=start,
        noise_uv=np.concatenate([o.noise_uv for o in with_frames], axis=1),
        quality=np.concatenate([o.quality for o in with_quality]),
    )


def output_since(out: ChainOutput, frame: int, hop_samples: int) -> ChainOutput:
    """The part of ``out`` from absolute frame ``frame`` on.

    Frames from ``frame``, candidates whose peak is at or after its first sample, quality rows
    that end after it. ``hop_samples`` is the chain's samples per frame.
    """
    cut = max(0, min(out.n_frames, frame - out.envelope_start_frame))
    first = (out.envelope_start_frame + cut) * hop_samples
    rows = out.candidates["peak"] >= first
    return ChainOutput(
        candidates=out.candidates[rows],
        features=out.features[rows],
        snippets=out.snippets[rows],
        envelope_uv=out.envelope_uv[:, cut:],
        envelope_start_frame=out.envelope_start_frame + cut,
        noise_uv=out.noise_uv[:, cut:],
        quality=out.quality[out.quality["stop"] > first],
    )
