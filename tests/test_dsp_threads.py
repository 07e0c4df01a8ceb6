"""split_run: every channel (or candidate) slice is processed exactly once, by any thread count."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from dsp._threads import split_run


@njit(nogil=True, cache=True)
def _add_row_index(x, offset, counts):
    for r in range(x.shape[0]):
        for i in range(x.shape[1]):
            x[r, i] += offset
        counts[r] += 1


@pytest.mark.parametrize("n_items", [1, 2, 3, 7, 8, 13, 64])
@pytest.mark.parametrize("threads", [1, 2])
def test_each_slice_is_processed_once(n_items, threads):
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        x = np.zeros((n_items, 50))
        counts = np.zeros(n_items, np.int64)
        split_run(_add_row_index, (x, 2.5, counts), (0, 2), n_items)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(counts, np.ones(n_items, np.int64))
    np.testing.assert_array_equal(x, np.full((n_items, 50), 2.5))


def test_kernel_errors_reach_the_caller():
    with pytest.raises(TypingError):
        split_run(_add_row_index, (np.zeros((4, 3)), "not a number", np.zeros(4)), (0, 2), 4)


def test_split_kernel_passes_arguments_by_name_and_splits_the_named_ones():
    from types import SimpleNamespace

    from dsp._threads import SplitKernel

    kernel = SplitKernel(SimpleNamespace(add=_add_row_index), "add", ("x", "counts"))
    x = np.zeros((7, 5))
    counts = np.zeros(7, np.int64)
    kernel(True, counts=counts, offset=1.5, x=x)  # any order of names
    kernel(False, x=x, offset=1.0, counts=counts)
    np.testing.assert_array_equal(counts, np.full(7, 2))
    np.testing.assert_array_equal(x, np.full((7, 5), 2.5))
    with pytest.raises(TypeError):
        kernel(True, x=x, counts=counts)  # offset missing
    with pytest.raises(ValueError):
        SplitKernel(SimpleNamespace(add=_add_row_index), "add", ("x", "rows"))


def test_every_kernel_module_names_arguments_its_kernels_have():
    """The per-channel (per-candidate) names each kernel module states match its signatures."""
    from dsp import _detect_numba, _features_numba, _filter_numba, _noise_numba, _quality_numba
    from dsp._threads import SplitKernel

    stated = [(_detect_numba, _detect_numba.PER_CHANNEL), (_noise_numba, _noise_numba.PER_CHANNEL),
              (_quality_numba, _quality_numba.PER_CHANNEL),
              (_filter_numba, _filter_numba.PER_CHANNEL),
              (_features_numba, _features_numba.PER_CANDIDATE)]
    for module, per_item in stated:
        for name, split in per_item.items():
            assert SplitKernel(module, name, split).split  # raises on a name the kernel lacks
