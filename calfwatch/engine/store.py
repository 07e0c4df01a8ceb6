"""The night's chain outputs, kept in timeline order and joined into a few large blocks."""

from __future__ import annotations

from dsp.output import ChainOutput, concat_outputs

#: Chain outputs are joined into one block every this many, so a night is a few dozen large arrays
#: (returned to the system when freed) rather than tens of thousands of small ones.
CONSOLIDATE_OUTPUTS = 256


class OutputStore:
    """What the detection chain returned over a night: candidates, features, snippets, 50-ms
    envelope and noise frames, quality rows; never the samples (a few MB per channel-hour).

    Parameters
    ----------
    n_channels : int
        Channels of the stream.
    hop_samples : int
        Samples per envelope frame.

    Examples
    --------
    >>> store = OutputStore(n_channels=1, hop_samples=100)
    >>> store.processed_samples
    0
    """

    def __init__(self, n_channels: int, hop_samples: int) -> None:
        self.n_channels = int(n_channels)
        self.hop_samples = int(hop_samples)
        #: The outputs kept, in timeline order (older ones joined into blocks).
        self.blocks: list[ChainOutput] = []
        self._since_block = 0

    def add(self, out: ChainOutput) -> bool:
        """Keep ``out`` unless it holds nothing; return whether it was kept."""
        if not (out.n_frames or len(out.candidates) or len(out.quality)):
            return False
        self.blocks.append(out)
        self._since_block += 1
        if self._since_block >= CONSOLIDATE_OUTPUTS:
            tail = self.blocks[-self._since_block:]
            del self.blocks[-self._since_block:]
            self.blocks.append(concat_outputs(tail, self.n_channels))
            self._since_block = 0
        return True

    def join_all(self) -> None:
        """Join every block into one (at the end of a night: one copy of the arrays only)."""
        self.blocks = [concat_outputs(self.blocks, self.n_channels)]
        self._since_block = 0

    @property
    def processed_samples(self) -> int:
        """Samples of the timeline the chain has returned envelope frames for."""
        last = next((o for o in reversed(self.blocks) if o.n_frames), None)
        if last is None:
            return 0
        return (last.envelope_start_frame + last.n_frames) * self.hop_samples
