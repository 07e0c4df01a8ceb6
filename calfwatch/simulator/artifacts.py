"""Artifacts: electrode pops, motion, lead-off and saturation stretches.

Electrode pop
    The electrode-skin interface holds a half-cell potential of tens to hundreds of mV; when the
    contact changes (gel bridge, pressure, a lifting edge) that potential jumps and then relaxes as
    the interface's double layer recharges (Webster, Medical Instrumentation, ch. 5; Tam & Webster,
    IEEE Trans Biomed Eng 1977;24:134). On the recording this is a step of hundreds of µV to mV
    followed by an exponential recovery over 100s of ms (``pop_uv``, ``pop_tau_s``): a transient
    much longer and slower than any motor-unit potential. A pop of an electrode that several
    channels share (the reference, or the common electrode of adjacent bipolar pairs) appears on
    all of them at the same instant with the same sign, each scaled by its own input
    (``pop_shared_prob``; see :func:`make_shared_pops`).
Motion
    Movement of cables and electrodes modulates the same interface: slow waves whose energy lies
    below 10-20 Hz (De Luca et al., J Biomech 2010;43:1573; Clancy et al., J Electromyogr Kinesiol
    2002;12:1), here three sinusoids of 1-10 Hz under a raised-cosine window, on every channel of
    the leg.
Lead-off and saturation
    A lifted electrode leaves the input floating at a constant; a saturated amplifier sits at the
    rail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

POP_RENDER_TAUS = 14.0  # a pop is rendered until exp(-14) ~ 1e-6 of its step
POP_TRUTH_TAUS = float(np.log(100.0))  # its truth span ends when it has decayed to 1 %


@dataclass
class Artifact:
    """One artifact on one channel.

    ``detail`` is ``"pop"``, ``"motion"``, ``"lead-off"`` or ``"saturation"``. Additive ones (pop,
    motion) are added to the signal; flat ones replace it with ``value_uv`` over their span.
    """

    detail: str
    onset_s: float
    duration_s: float
    value_uv: float = 0.0  # pop step, or the flat value
    tau_s: float = 0.0  # pop decay
    freqs_hz: np.ndarray = field(default_factory=lambda: np.zeros(0))
    amps_uv: np.ndarray = field(default_factory=lambda: np.zeros(0))
    phases: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def flat(self) -> bool:
        """Whether the artifact replaces the signal with a constant."""
        return self.detail in ("lead-off", "saturation")

    @property
    def render_stop_s(self) -> float:
        """End of the span that the artifact touches."""
        if self.detail == "pop":
            return self.onset_s + POP_RENDER_TAUS * self.tau_s
        return self.onset_s + self.duration_s

    def additive(self, t_s: np.ndarray) -> np.ndarray:
        """The additive waveform at times ``t_s`` (zero outside its span)."""
        rel = t_s - self.onset_s
        if self.detail == "pop":
            inside = (rel >= 0) & (t_s < self.render_stop_s)
            return np.where(inside, self.value_uv * np.exp(-np.maximum(rel, 0) / self.tau_s), 0.0)
        inside = (rel >= 0) & (rel <= self.duration_s)
        window = np.sin(np.pi * np.clip(rel / self.duration_s, 0, 1)) ** 2
        wave = (self.amps_uv[:, None] * np.sin(
            2 * np.pi * self.freqs_hz[:, None] * rel[None, :] + self.phases[:, None]
        )).sum(axis=0)
        return np.where(inside, wave * window, 0.0)


def make_pop(rng: np.random.Generator, onset_s: float, amp_range, tau_range) -> Artifact:
    """A step of random sign that decays exponentially."""
    amp = rng.choice([-1.0, 1.0]) * rng.uniform(*amp_range)
    tau = rng.uniform(*tau_range)
    return Artifact("pop", onset_s, POP_TRUTH_TAUS * tau, value_uv=amp, tau_s=tau)


#: Relative size of a shared pop on each channel (each input sees the jump through its own
#: electrode impedance and gain).
SHARED_POP_GAIN = (0.5, 1.0)


def make_shared_pops(rng: np.random.Generator, n_channels: int, onset_s: float, amp_range,
                     tau_range) -> list[Artifact]:
    """The same pop (one sign, one recovery) on ``n_channels`` channels, each scaled by its gain."""
    base = make_pop(rng, onset_s, amp_range, tau_range)
    gains = rng.uniform(*SHARED_POP_GAIN, n_channels)
    return [Artifact("pop", onset_s, base.duration_s, value_uv=base.value_uv * g, tau_s=base.tau_s)
            for g in gains]


def make_motion(
    rng: np.random.Generator, onset_s: float, duration_s: float, hz_range, ptp_uv: float,
    sfreq_hz: float,
) -> Artifact:
    """Three sinusoids of 1-10 Hz under a raised-cosine window, scaled to ``ptp_uv`` on the grid."""
    art = Artifact(
        "motion", onset_s, duration_s, freqs_hz=rng.uniform(*hz_range, 3),
        amps_uv=rng.uniform(0.3, 1.0, 3), phases=rng.uniform(0, 2 * np.pi, 3),
    )
    wave = art.additive(_grid(onset_s, art.render_stop_s, sfreq_hz))
    art.amps_uv = art.amps_uv * (ptp_uv / (wave.max() - wave.min()))
    return art


def _grid(start_s: float, stop_s: float, sfreq_hz: float) -> np.ndarray:
    first, last = int(np.floor(start_s * sfreq_hz)), int(np.ceil(stop_s * sfreq_hz))
    return np.arange(first, last + 1) / sfreq_hz


def sampled_ptp(art: Artifact, sfreq_hz: float) -> float:
    """Peak-to-peak of the artifact's own samples (0 for flat stretches)."""
    if art.flat:
        return 0.0
    wave = art.additive(_grid(art.onset_s - 1.0 / sfreq_hz, art.render_stop_s, sfreq_hz))
    return float(wave.max() - wave.min())


def apply_artifacts(out: np.ndarray, start_sample: int, sfreq_hz: float, arts: list[Artifact]):
    """Add the additive artifacts overlapping ``out`` and then impose the flat ones."""
    stop_s = (start_sample + out.size) / sfreq_hz
    start_s = start_sample / sfreq_hz
    touching = [a for a in arts if a.onset_s < stop_s and a.render_stop_s >= start_s]
    if not touching:
        return
    t_s = (start_sample + np.arange(out.size)) / sfreq_hz
    for art in touching:
        if not art.flat:
            out += art.additive(t_s)
    for art in touching:
        if art.flat:
            out[(t_s >= art.onset_s) & (t_s < art.onset_s + art.duration_s)] = art.value_uv
