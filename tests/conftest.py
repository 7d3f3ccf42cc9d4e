"""Shared test helpers. Real task data is read from HARNESS_DATA; tests that need it skip with the reason when absent."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.data import data_dir

# `harness eval` writes the HTML report at the end of a run (about a second of plotting); tests that run eval for
# other reasons skip it, the report tests turn it back on (HARNESS_REPORT=1)
os.environ.setdefault("HARNESS_REPORT", "0")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def need_data(*parts: str) -> Path:
    """The path under HARNESS_DATA, or skip the test saying what is missing."""
    path = data_dir().joinpath(*parts)
    if not path.exists():
        pytest.skip(f"task data {path} is absent (set HARNESS_DATA to the shared data folder)")
    return path


@pytest.fixture
def isolated_runtime(tmp_path, monkeypatch):
    """A private runtime dir for service crash records, so tests do not see each other's leftovers."""
    monkeypatch.setenv("HARNESS_RUNTIME_DIR", str(tmp_path / "run"))
    return tmp_path / "run"
