"""The session fixtures `tutorial_runs` and `page_only_tutorial_runs`: every tutorial run once under
nbval against the full local server, and once against a page-only one (see tests/tutorials.py).

A plugin (`pytest_plugins = ["tutorial_runs"]`), so the notebooks and the secrets tests share the runs.
"""

from __future__ import annotations

import pytest
from tutorials import NOTEBOOKS, TUTORIALS, TutorialSession, run_tutorials


@pytest.fixture(scope="session")
def tutorial_runs(tmp_path_factory: pytest.TempPathFactory) -> TutorialSession:
    assert TUTORIALS, f"no tutorial notebooks in {NOTEBOOKS}"
    return run_tutorials(tmp_path_factory.mktemp("tutorials"))


@pytest.fixture(scope="session")
def page_only_tutorial_runs(tmp_path_factory: pytest.TempPathFactory) -> TutorialSession:
    """The same notebooks, unchanged, against a server with only what Speechgen's page documents."""
    return run_tutorials(tmp_path_factory.mktemp("tutorials-page-only"), page_only=True)
