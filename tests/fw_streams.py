"""Known streams for the decoder tests: wire bytes, frame boundaries and the samples they carry."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firmware_io import ascii_lines, bitalino, calfwatch_protocol, cyton

KINDS = ("calfwatch", "cyton", "bitalino", "ascii")


@dataclass
class Stream:
    data: bytes
    starts: np.ndarray  # byte offset of each frame (n_frames + 1 with the end)
    frame_first: np.ndarray  # sample index of each frame's first sample
    frame_len: np.ndarray  # samples per frame
    counts: np.ndarray  # (n_channels, n_samples) all samples
    lead: int  # bytes before the first frame
    n_channels: int

    def frame_of_sample(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.frame_len)), self.frame_len)


def make_decoder(kind: str, n_channels: int):
    if kind == "calfwatch":
        return calfwatch_protocol.CalfwatchDecoder()
    if kind == "cyton":
        return cyton.CytonDecoder()
    if kind == "bitalino":
        return bitalino.BitalinoDecoder(n_channels)
    return ascii_lines.AsciiDecoder(first_column="counter")


def make_stream(kind: str, n_frames: int, rng: np.random.Generator, n_channels: int | None = None,
                counter0: int = 0, skip: tuple[int, ...] = ()) -> Stream:
    """``n_frames`` frames of random samples; frames listed in ``skip`` are counted but not sent."""
    parts: list[bytes] = []
    first, lens, kept = [], [], []
    pos = 0
    if kind == "calfwatch":
        nch = n_channels or 2
        lens_all = rng.integers(1, 5, n_frames)
        counts = rng.integers(-(2**23), 2**23, (nch, int(lens_all.sum())))
        lead = b"\x00"
        for k, n in enumerate(lens_all):
            if k not in skip:
                block = counts[:, pos : pos + n]
                parts.append(calfwatch_protocol.encode_data(counter0 + pos, pos * 500, 7, 0, block))
                first.append(pos)
                lens.append(n)
                kept.append(slice(pos, pos + n))
            pos += n
    else:
        if kind == "cyton":
            nch = 8
            counts = rng.integers(-(2**23), 2**23, (nch, n_frames))
        elif kind == "bitalino":
            nch = n_channels or 4
            bits = bitalino.channel_bits(nch)
            counts = np.stack([rng.integers(0, 2 ** int(b), n_frames) for b in bits])
        else:
            nch = n_channels or 2
            counts = rng.integers(0, 1024, (nch, n_frames))
        lead = b"\r\n" if kind == "ascii" else b""
        for k in range(n_frames):
            if k in skip:
                continue
            c = np.array([counter0 + k])
            col = counts[:, k : k + 1]
            if kind == "cyton":
                parts.append(cyton.encode_packets(c, col))
            elif kind == "bitalino":
                parts.append(bitalino.encode_frames(c, col))
            else:
                parts.append(ascii_lines.encode_lines(col, c))
            first.append(k)
            lens.append(1)
            kept.append(slice(k, k + 1))
    sizes = [len(p) for p in parts]
    starts = np.concatenate([[len(lead)], len(lead) + np.cumsum(sizes)])
    sent = np.concatenate([counts[:, s] for s in kept], axis=1) if kept else counts[:, :0]
    return Stream(lead + b"".join(parts), starts, np.array(first), np.array(lens), sent, len(lead),
                  nch)


def feed_chunked(decoder, data: bytes, cuts: list[int]):
    """Feed ``data`` split at ``cuts`` and flush; return the joined batch."""
    from firmware_io.frames import concat_batches

    bounds = [0, *sorted(c for c in cuts if 0 < c < len(data)), len(data)]
    batches = [decoder.feed(data[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    batches.append(decoder.flush())
    return concat_batches(batches, decoder.n_channels)
