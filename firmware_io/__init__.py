"""firmware_io: bytes <-> frames for the serial EMG devices calfwatch reads, and emulated devices.

- :mod:`firmware_io.devices` -- ``DEVICES[kind]``: serial settings, scale, counter width, commands and
  decoder factories for ``calfwatch``, ``cyton``, ``bitalino`` and ``ascii``.
- Decoders (the :class:`~firmware_io.codec.StreamDecoder` contract: ``feed(bytes) -> FrameBatch``,
  ``flush``, ``new_connection``, ``stats``, ``to_uv``) and encoders:
  :mod:`~firmware_io.calfwatch_protocol`, :mod:`~firmware_io.cyton`, :mod:`~firmware_io.bitalino`,
  :mod:`~firmware_io.ascii_lines`; shared types in :mod:`~firmware_io.frames`.
- :mod:`firmware_io.emulator` -- ``EmulatedDevice``: a device's firmware on a pseudo-terminal, with
  the faults of :mod:`firmware_io.faults` and an exact fault log.

The wire formats are documented in ``docs/protocol.md``.
"""
