"""calfwatch: overnight calf surface-EMG recording and fasciculation measurement.

calfwatch measures; it never diagnoses. See README.md.
"""

__version__ = "0.1.0"
