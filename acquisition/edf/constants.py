"""Numbers of the EDF/EDF+/BDF/BDF+ formats: field places, digital ranges, reserved labels.

The header is ``256 * (n_signals + 1)`` bytes of printable ASCII (BDF starts with the byte 0xFF):
a fixed part of 256 bytes, then each per-signal field repeated for every signal. Field widths and
places follow the EDF specification; EDF+ and BDF+ add ``EDF+C``/``BDF+C`` in the reserved field
and the annotation signal.
"""

from __future__ import annotations

#: Version field of an EDF and of a BDF file (the first 8 bytes).
EDF_MAGIC = b"0       "
BDF_MAGIC = b"\xffBIOSEMI"
#: Bytes of the fixed part of the header, and of the per-signal part for each signal.
FIXED_HEADER_BYTES = 256

#: ``(offset, width)`` of the fields of the fixed header.
FIXED_FIELDS = {
    "version": (0, 8),
    "patient": (8, 80),
    "recording": (88, 80),
    "start_date": (168, 8),
    "start_time": (176, 8),
    "header_bytes": (184, 8),
    "reserved": (192, 44),
    "n_records": (236, 8),
    "record_s": (244, 8),
    "n_signals": (252, 4),
}
#: Byte offset and width of the "number of data records" field (-1 while recording).
N_RECORDS_OFFSET, N_RECORDS_WIDTH = FIXED_FIELDS["n_records"]

#: Widths of the per-signal fields, in the order they appear (each repeated for every signal).
SIGNAL_FIELDS = (
    ("label", 16),
    ("transducer", 80),
    ("physical_dimension", 8),
    ("physical_min", 8),
    ("physical_max", 8),
    ("digital_min", 8),
    ("digital_max", 8),
    ("prefilter", 80),
    ("samples_per_record", 8),
    ("reserved", 32),
)

#: Digital range of the 16-bit EDF and the 24-bit BDF samples.
EDF_DIGITAL_RANGE = (-32768, 32767)
BDF_DIGITAL_RANGE = (-8388608, 8388607)

#: Label of the EDF+ and of the BDF+ annotation signal.
EDF_ANNOTATIONS = "EDF Annotations"
BDF_ANNOTATIONS = "BDF Annotations"
ANNOTATION_LABELS = (EDF_ANNOTATIONS, BDF_ANNOTATIONS)

#: Annotation text of spans without real samples (gaps, padding), as MNE names acquisition skips.
GAP_TEXT = "BAD_ACQ_SKIP"

#: µV per physical unit of the voltage dimensions as MNE spells them: MNE scales these and reads
#: any other unit as volts, silently (the other spellings calfwatch reads, ``UV``, ``µV`` in UTF-8,
#: ``nV``: :func:`acquisition.edf.units.unit_to_uv`; :mod:`acquisition.reader` corrects MNE's
#: scale for them).
UV_PER_UNIT = {"V": 1e6, "mV": 1e3, "uV": 1.0, "\u00b5V": 1.0, "\u03bcV": 1.0, "\x83\xcaV": 1.0}


def digital_range(bdf: bool) -> tuple[int, int]:
    """The digital minimum and maximum of a BDF (24-bit) or EDF (16-bit) file."""
    return BDF_DIGITAL_RANGE if bdf else EDF_DIGITAL_RANGE


def bytes_per_sample(bdf: bool) -> int:
    """Bytes of one sample: 3 in BDF, 2 in EDF."""
    return 3 if bdf else 2


def annotation_label(bdf: bool) -> str:
    """Label of the annotation signal of a BDF+ or EDF+ file."""
    return BDF_ANNOTATIONS if bdf else EDF_ANNOTATIONS
