"""Frame drops and byte damage applied to what an emulated device sends, drawn from the plan's seed."""

from __future__ import annotations

import numpy as np

from firmware_io._emu_ledger import FaultLedger
from firmware_io.faults import FaultPlan
from firmware_io.firmware import Encoded


class LinkDamage:
    """Draws and applies frame drops, corrupted and deleted bytes, and start-up garbage.

    One generator per fault kind, each drawn per frame or per byte of the stream, so the faults
    depend on the seed only, not on how the emulator's clock slices the stream into blocks.

    Parameters
    ----------
    faults : FaultPlan
        Rates and seed.
    firmware : object
        The firmware model (its ``delimiter`` and ``damage`` judge what the host can detect).
    ledger : FaultLedger
        Where each fault is logged.
    """

    def __init__(self, faults: FaultPlan, firmware, ledger: FaultLedger) -> None:
        self.faults = faults
        self.firmware = firmware
        self.ledger = ledger
        streams = np.random.SeedSequence(faults.seed).spawn(4)
        self._rng = dict(zip(("drop_frames", "corrupt", "drop_bytes", "garbage"),
                             map(np.random.default_rng, streams), strict=True))
        self._byte_rate = {"corrupt": faults.corrupt_rate, "drop_bytes": faults.drop_byte_rate}
        self._next_hit = {cause: self._gap(cause) for cause in self._byte_rate}
        #: the cause that broke the delimiter ending the last frame sent (its successor is lost)
        self.poison: str | None = None

    def garbage(self, first_sample: int) -> bytes:
        """The random bytes the plan puts before a (re)start, logged."""
        if not self.faults.garbage_bytes:
            return b""
        draw = self._rng["garbage"].integers(0, 256, self.faults.garbage_bytes, dtype=np.uint8)
        self.ledger.log("garbage", first_sample, 0, 0, bytes_affected=len(draw))
        return draw.tobytes()

    def apply(self, enc: Encoded) -> tuple[bytes, list]:
        """Drop and damage the frames of one encoded block; the bytes sent and per-frame metadata.

        The metadata are (size, first, n, lost_cause) per frame sent, ``lost_cause`` None when the
        host receives its samples.
        """
        nf = len(enc.first)
        frames = [enc.data[enc.offsets[k] : enc.offsets[k + 1]] for k in range(nf)]
        idx = self._drop_frames(enc)
        damage = self._draw_damage([len(frames[k]) for k in idx])
        out, frame_meta = [], []
        for j, k in enumerate(idx):
            raw, lost_cause = frames[k], None
            if j in damage:
                raw, lost_cause = self._damage(enc, k, raw, damage[j])
            merged_by = self.poison if j == 0 else None
            if j - 1 in damage and damage[j - 1]["split"]:
                merged_by = damage[j - 1]["cause"]
            if merged_by is not None and lost_cause is None:  # its delimiter-side neighbour broke
                lost_cause = merged_by
                self._merged(enc, k, merged_by, j in damage)
            out.append(raw)
            frame_meta.append((len(raw), int(enc.first[k]), int(enc.n_samples[k]), lost_cause))
        if idx.size:
            self.poison = None
            last = damage.get(len(idx) - 1)
            if last is not None and last["split"]:
                self.poison = last["cause"]
        return b"".join(out), frame_meta

    def _merged(self, enc: Encoded, k: int, cause: str, damaged: bool) -> None:
        n = int(enc.n_samples[k])
        self.ledger.undetected -= n if damaged else 0
        self.ledger.log(cause, enc.first[k], n, n, counter=int(enc.counters[k]), merged=True)
        self.ledger.lost[cause] += n

    def _drop_frames(self, enc: Encoded) -> np.ndarray:
        """Indices of the frames sent; the others are logged as dropped."""
        nf = len(enc.first)
        if not self.faults.drop_frame_rate:
            return np.arange(nf)
        keep = self._rng["drop_frames"].random(nf) >= self.faults.drop_frame_rate
        for k in np.flatnonzero(~keep):
            n = int(enc.n_samples[k])
            self.ledger.lose("drop_frames", enc.first[k], n, counter=int(enc.counters[k]))
        return np.flatnonzero(keep)

    def _draw_damage(self, sizes: list[int]) -> dict[int, dict]:
        """Byte faults per sent frame: {frame: {"corrupt": {offset: xor}, "drop_bytes": {offset}}}."""
        starts = np.concatenate([[0], np.cumsum(np.asarray(sizes, np.int64))])
        total = int(starts[-1])
        damage: dict[int, dict] = {}
        for cause in self._byte_rate:
            for p, xor in self._hits(cause, total):
                j = int(np.searchsorted(starts, p, side="right") - 1)
                d = damage.setdefault(j, {"corrupt": {}, "drop_bytes": set()})
                off = int(p - starts[j])
                if cause == "corrupt":
                    d["corrupt"][off] = xor
                else:
                    d["drop_bytes"].add(off)
        return damage

    def _gap(self, cause: str) -> float:
        """Bytes from one fault of ``cause`` to the next (a Bernoulli process per byte sent)."""
        rate = self._byte_rate[cause]
        return float(self._rng[cause].geometric(rate)) if rate > 0 else float("inf")

    def _hits(self, cause: str, total: int) -> list[tuple[int, int]]:
        """(offset, xor) of each byte hit by ``cause`` among the next ``total`` bytes sent (xor 0 for
        a deletion); a hit draws its xor, then the gap to the next, so the draws follow the stream,
        not the blocks."""
        hits = []
        while self._next_hit[cause] <= total:
            xor = int(self._rng[cause].integers(1, 256)) if cause == "corrupt" else 0
            hits.append((int(self._next_hit[cause]) - 1, xor))
            self._next_hit[cause] += self._gap(cause)
        self._next_hit[cause] -= total
        return hits

    def _damage(self, enc: Encoded, k: int, raw: bytes, d: dict) -> tuple[bytes, str | None]:
        buf = bytearray(raw)
        for off, x in d["corrupt"].items():
            buf[off] ^= x
        for off in sorted(d["drop_bytes"], reverse=True):
            del buf[off]
        cause = "drop_bytes" if d["drop_bytes"] else "corrupt"
        delim = self.firmware.delimiter
        last = len(raw) - 1
        d["cause"] = cause
        d["split"] = delim is not None and (last in d["corrupt"] or last in d["drop_bytes"])
        outcome = "lost" if d["split"] else self.firmware.damage(raw, bytes(buf))
        n = int(enc.n_samples[k])
        lost = n if outcome == "lost" else 0
        self.ledger.log(cause, enc.first[k], n, lost, counter=int(enc.counters[k]),
                        detected=outcome == "lost",
                        bytes=sorted(set(d["corrupt"]) | d["drop_bytes"]))
        if lost:
            self.ledger.lost[cause] += lost
        else:
            self.ledger.undetected += n
        return bytes(buf), (cause if lost else None)
