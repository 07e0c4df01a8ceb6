"""Imported once by the process that local batch workers are forked from (``--jobs N``): every
module a task runs and the compiled kernels of a one-channel chain, loaded from disk, so that each
worker starts ready instead of importing and loading them itself at its first recording (about
0.7 s of CPU for the kernels and the engine, 0.2 s more for the classifier, the summary and
scipy.special, which a task imports on first use)."""

from __future__ import annotations

import scipy.special  # noqa: F401

import acquisition._sidecar  # noqa: F401
import acquisition.edf.annotation_file  # noqa: F401
import acquisition.picks  # noqa: F401
import acquisition.replay  # noqa: F401
import acquisition.safe_files  # noqa: F401
import calfwatch.analysis  # noqa: F401
import calfwatch.engine  # noqa: F401
import calfwatch.local_time  # noqa: F401
import calfwatch.outputs  # noqa: F401
import classifier.assessment  # noqa: F401
import classifier.events  # noqa: F401
import classifier.morphology  # noqa: F401
import classifier.night  # noqa: F401
import classifier.summary  # noqa: F401
from calfwatch.batch import task  # noqa: F401
from calfwatch.summary_doc import versions
from dsp.warmup import load_kernels

load_kernels(1)
versions()  # the package metadata readers, imported at the first call
