"""The engine: one code path from a sample stream to classified events and a night summary.

- :mod:`~calfwatch.engine.night_engine`: :class:`NightEngine` feeds a stream's chunks on their
  timeline through the detection chain (:func:`feed_stream` is the loop every analysis shares);
- :mod:`~calfwatch.engine.store`: the chain outputs kept over the night, joined into blocks;
- :mod:`~calfwatch.engine.live_view`: the recent past classified while a night is recorded;
- :mod:`~calfwatch.engine.result`: the final classification of a night and its summary.

A recorded night analysed from its file gives the events the live night gave (the live path feeds
the values the file stores: see :mod:`calfwatch.live`).
"""

from calfwatch.engine.night_engine import MIN_SFREQ_HZ, NightEngine, check_info, feed_stream
from calfwatch.engine.result import NightResult, NightSnapshot, event_rows

__all__ = ["MIN_SFREQ_HZ", "NightEngine", "NightResult", "NightSnapshot", "check_info",
           "event_rows", "feed_stream"]
