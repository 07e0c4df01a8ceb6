"""Shared fixtures: where the real sample recordings are, when they are there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def sample_data_dir() -> Path | None:
    """The folder named by CALFWATCH_SAMPLE_DATA (absolute), or None when unset or absent.

    CI names it relative to the checkout (``../shared/data``); tests that run commands in
    another working directory need it absolute.
    """
    value = os.environ.get("CALFWATCH_SAMPLE_DATA")
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    return path if path.is_dir() else None


@pytest.fixture
def sample_data() -> Path:
    """The real-recordings folder; skips the test when it is not available."""
    path = sample_data_dir()
    if path is None:
        pytest.skip("CALFWATCH_SAMPLE_DATA is not set or does not exist")
    return path
