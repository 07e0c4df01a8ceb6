"""Imported once by the process that local batch workers are forked from (``--jobs N``): the
modules a task runs and the compiled kernels of a one-channel chain, loaded from disk, so that each
worker starts ready instead of importing and loading them itself (about 0.7 s of CPU each)."""

from __future__ import annotations

import calfwatch.analysis  # noqa: F401
import calfwatch.engine  # noqa: F401
import calfwatch.outputs  # noqa: F401
from calfwatch.batch import task  # noqa: F401
from dsp.warmup import load_kernels

load_kernels(1)
