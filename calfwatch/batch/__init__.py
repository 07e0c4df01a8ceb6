"""Batches of recordings: many files, folders or a BIDS dataset analysed on this machine's cores or
a Dask cluster, with one cohort table (see :func:`run_batch`)."""

from calfwatch.batch.inputs import Batch, Job, plan_batch
from calfwatch.batch.runner import BatchResult, run_batch
from calfwatch.batch.task import Options, Outcome, analyze_recording

__all__ = ["Batch", "BatchResult", "Job", "Options", "Outcome", "analyze_recording", "plan_batch",
           "run_batch"]
