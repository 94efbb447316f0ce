"""The fault suite (issue 6): bad input, injected faults, hostile documents and concurrency.

Every test here carries the `fault` marker, so `pytest -m fault` runs the suite on its own; `make test`
runs it with everything else.
"""
from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.fault)
