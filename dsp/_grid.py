"""The chain's sample grid: frames, noise blocks and quality windows on the absolute timeline."""

from __future__ import annotations

from dataclasses import dataclass

from dsp.types import ENVELOPE_HOP_S, QUALITY_WINDOW_S


@dataclass(frozen=True)
class ChainGrid:
    """Lengths (samples) of the chain's frames, noise blocks and quality windows.

    Frame, block and window ``k`` start at ``k`` times their length on the absolute timeline; a
    block is a whole number of frames and a window a whole number of blocks.

    Parameters
    ----------
    sfreq_hz : float
        Sampling rate.
    noise_block_s : float
        Wanted noise block length (rounded to whole frames).
    window_s : float
        Wanted quality window length (rounded to whole blocks).

    Examples
    --------
    >>> g = ChainGrid.at(2000.0, 0.5)
    >>> g.hop_samples, g.block_samples, g.window_samples
    (100, 1000, 20000)
    """

    sfreq_hz: float
    hop_samples: int  # one envelope/noise frame (ENVELOPE_HOP_S)
    block_samples: int  # one noise block (a multiple of hop_samples)
    window_samples: int  # one quality window (a multiple of block_samples)

    @classmethod
    def at(cls, sfreq_hz: float, noise_block_s: float,
           window_s: float = QUALITY_WINDOW_S) -> ChainGrid:
        """The grid at ``sfreq_hz`` with noise blocks of about ``noise_block_s`` and quality
        windows of about ``window_s``."""
        hop = max(1, round(ENVELOPE_HOP_S * sfreq_hz))
        block = hop * max(1, round(noise_block_s / ENVELOPE_HOP_S))
        window = block * max(1, round(window_s * sfreq_hz / block))
        return cls(float(sfreq_hz), hop, block, window)

    def samples(self, seconds: float) -> int:
        """``seconds`` as a whole number of samples, at least one."""
        return max(1, round(seconds * self.sfreq_hz))

    @property
    def hops_per_block(self) -> int:
        """Frames per noise block."""
        return self.block_samples // self.hop_samples
