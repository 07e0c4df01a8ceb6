"""The chain's release of candidates in peak order across channels."""

from __future__ import annotations

import numpy as np


class PeakOrderRelease:
    """Holds candidates until no channel can still close one with an earlier peak.

    An event may stay open ``hold_samples`` (its longest duration and merge gap) after the scan
    position, so a candidate is released once its peak is before the scan position less that.

    Parameters
    ----------
    hold_samples : int
    """

    def __init__(self, hold_samples: int) -> None:
        self.hold_samples = hold_samples
        self._pending: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def release(self, cand: np.ndarray, feats: np.ndarray, snips: np.ndarray, horizon: int,
                final: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Add new candidates (with their features and snippets); return those whose peak is
        before ``horizon`` (every one when ``final``), in (peak, channel) order."""
        pending = self._pending
        if not len(cand) and (pending is None or not len(pending[0])):
            return cand, feats, snips
        if pending is not None and len(pending[0]):
            cand = np.concatenate([pending[0], cand])
            feats = np.concatenate([pending[1], feats])
            snips = np.concatenate([pending[2], snips])
        order = np.lexsort((cand["channel"], cand["peak"]))
        cand, feats, snips = cand[order], feats[order], snips[order]
        n = len(cand) if final else int(np.searchsorted(cand["peak"], horizon))
        self._pending = (cand[n:], feats[n:], snips[n:])
        return cand[:n], feats[:n], snips[:n]
