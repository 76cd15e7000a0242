"""The session fixture `tutorial_runs`: every tutorial run once under nbval (see tests/tutorials.py).

A plugin (`pytest_plugins = ["tutorial_runs"]`), so the notebooks and the secrets tests share one run.
"""

from __future__ import annotations

import pytest
from tutorials import NOTEBOOKS, TUTORIALS, TutorialSession, run_tutorials


@pytest.fixture(scope="session")
def tutorial_runs(tmp_path_factory: pytest.TempPathFactory) -> TutorialSession:
    assert TUTORIALS, f"no tutorial notebooks in {NOTEBOOKS}"
    return run_tutorials(tmp_path_factory.mktemp("tutorials"))
