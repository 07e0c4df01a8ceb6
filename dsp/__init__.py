"""dsp layer of calfwatch: numba kernels and thin wrappers, pure arrays in and out, no I/O.

- :mod:`dsp.filters`: ``design_sos``, ``detect_mains_hz``, ``StreamingFilter``, ``sosfilt``
  (band-pass + mains notches, bit-identical to scipy.signal.sosfilt on finite data).
- :mod:`dsp.features`: ``measure_candidates``, ``dominant_hz``.
- :mod:`dsp.chain`: ``DetectionChain`` (streaming filter, noise, detection, features, envelope
  frames, quality), ``ChainOutput``, ``concat_outputs``; settings in :mod:`dsp.config`. Its stages
  live in ``dsp._stage_*`` (input, filter, noise, detect, measure, release, quality).
- :mod:`dsp.quality`: what the quality windows say of a channel as a whole (``channel_floor_ratio``,
  ``is_rectified``: a sensor's rectified output is not raw EMG).
- :mod:`dsp.types`: the structured dtypes and frame constants shared with the classifier.
"""
