"""calfwatch: overnight calf surface-EMG recording and fasciculation measurement.

calfwatch measures; it never diagnoses. See README.md.

The Python interface (imported on first use, so the command line starts fast)::

    night = calfwatch.analyze("night.edf")         # or an mne.io.Raw, or (array_uv, sfreq_hz)
    night.events, night.summary, night.rates, night.to_annotations(), night.save("results")
    raw.set_annotations(raw.annotations + calfwatch.read_events("results"))
"""

__version__ = "0.1.0"

#: Public names and the module that defines each.
_LAZY = {
    "analyze": "calfwatch.api",
    "read_recording": "calfwatch.api",
    "read_events": "calfwatch.events_file",
    "Night": "calfwatch.night",
    "set_log_level": "calfwatch.log",
    "use_log_level": "calfwatch.log",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'calfwatch' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
