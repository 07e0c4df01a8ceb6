"""EDF+/BDF+ files: writing a night as it arrives, reading it back, repairing it after a crash.

One module, one job:

- :mod:`~acquisition.edf.constants`: field places, digital ranges, reserved labels.
- :mod:`~acquisition.edf.header`: the one header reader (:func:`~acquisition.edf.header.read_header`).
- :mod:`~acquisition.edf.scaling`: physical <-> digital values, as the header states them.
- :mod:`~acquisition.edf.fields`, :mod:`~acquisition.edf.header_build`: the header a writer writes.
- :mod:`~acquisition.edf.tal`: time-stamped annotation lists, encoded and parsed.
- :mod:`~acquisition.edf.writer`: the crash-safe streaming writer, over
  :mod:`~acquisition.edf.layout`, :mod:`~acquisition.edf.record_buffer`,
  :mod:`~acquisition.edf.annotation_channel` and :mod:`~acquisition.edf.record_file`.
- :mod:`~acquisition.edf.gap_notes`: gap annotations within the room a record has.
- :mod:`~acquisition.edf.stream`: constant-memory reading for replay (checks in
  :mod:`~acquisition.edf.stream_checks`).
- :mod:`~acquisition.edf.truncation`, :mod:`~acquisition.edf.units`: what the general reader
  refuses or leaves out before MNE reads a file.
- :mod:`~acquisition.edf.repair`: a crashed file made consistent.
- :mod:`~acquisition.edf.annotation_file`: annotation-only EDF+ files (a night's events).
- :mod:`~acquisition.edf.labels`: EDF+ signal labels and prefilter text.
"""
