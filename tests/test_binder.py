"""Binder, rebuilt the way repo2docker builds it, from the binder/ files alone.

repo2docker (the tool behind mybinder.org) uses only binder/ when that folder exists. For a
requirements.txt it makes a Python environment holding its base Jupyter packages, runs
`pip install -r binder/requirements.txt` from the repository's root, runs binder/postBuild if there
is one, and at every session start runs `binder/start <jupyter command>` from the repository's root.

Here: one fresh virtual environment (python -m venv) gets repo2docker's base packages and then
exactly that pip command (pip's cache is reused; repo2docker passes --no-cache-dir); then
binder/start is run with a trivial command that checks the server it started, and with
`jupyter nbconvert --execute` on the cloning tutorial, as Binder's kernels would run it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # the first test builds the venv (cold pip cache: minutes)

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
# What repo2docker's base environment for Python 3.11 holds before the repository's own requirements
# (repo2docker/buildpacks/conda/environment.py-3.11.yml): Jupyter's servers and widgets.
BASE_ENVIRONMENT = ["jupyterlab==4.*", "notebook", "ipywidgets==8.*", "jupyter_server==2.*"]
TUTORIAL = ROOT / "notebooks" / "02_cloning_a_voice.ipynb"

CHECK_SERVER = r"""
import json, os, urllib.error, urllib.request
url, key = os.environ["SPEECHGEN_BASE_URL"], os.environ["SPEECHGEN_API_KEY"]
def get(path, key=None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url + path, headers=headers), timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as err:
        return err.code, None
openapi, _ = get("/openapi.json")
voices, body = get("/v1/voices", key)
refused, _ = get("/v1/voices", "a-wrong-key")
import speechgen_jupyter
print(json.dumps({
    "url": url, "openapi": openapi, "voices": voices, "count": len(body["voices"]), "wrong_key": refused,
    "key_shape": key[:9], "key_length": len(key), "package": speechgen_jupyter.__file__,
}))
"""


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, f"{command} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a Binder session: a venv built from binder/, first on PATH, Jupyter isolated."""
    home = tmp_path_factory.mktemp("binder")
    venv = home / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run([*pip, *BASE_ENVIRONMENT], timeout=900)
    _run([*pip, "-r", "binder/requirements.txt"], cwd=ROOT, timeout=900)  # repo2docker's command, from the root
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPEECHGEN_", "JUPYTER", "PYTHON", "VIRTUAL_ENV"))}
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        VIRTUAL_ENV=str(venv),
        JUPYTER_CONFIG_DIR=str(home / "jupyter-config"),
        JUPYTER_DATA_DIR=str(home / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(home / "jupyter-runtime"),
        IPYTHONDIR=str(home / "ipython"),
        # binder/start's server fits clones with no search: this checks the session, not the fit (tests/local does).
        SPEECHGEN_LOCAL_CLONE_SECONDS="0",
        # Like a fresh Binder user's, the folders start empty; and never the real user's.
        SPEECHGEN_DATA_DIR=str(home / "speechgen-data"),
        SPEECHGEN_CACHE_DIR=str(home / "speechgen-cache"),
    )
    if (BINDER / "postBuild").exists():
        _run([str(BINDER / "postBuild")], cwd=ROOT, env=env, timeout=600)
    return env


@pytest.fixture
def start(binder_env: dict[str, str]) -> Iterator:
    """Run `binder/start COMMAND...` from the root, in its own process group, ended afterwards.

    In a Binder container the server outlives Jupyter's command until the container stops; here the
    whole group this test started (binder/start's background server with it) is stopped at the end.
    """
    groups: list[int] = []
    logs: list[str] = []

    def run(*command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        proc = subprocess.Popen(
            ["binder/start", *command], cwd=ROOT, env=binder_env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
        groups.append(proc.pid)
        out, err = proc.communicate(timeout=timeout)
        logs.extend(re.findall(r"\(log: (\S+?)\)", err))
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    yield run
    for group in groups:
        try:
            os.killpg(group, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for log in logs:
        Path(log).unlink(missing_ok=True)


def _served(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/openapi.json", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def test_binder_files_are_what_repo2docker_reads() -> None:
    assert os.access(BINDER / "start", os.X_OK), "binder/start must be executable"
    start = (BINDER / "start").read_text()
    assert start.startswith("#!/bin/bash\n")
    assert start.rstrip().splitlines()[-1] == 'exec "$@"'
    requirements = (BINDER / "requirements.txt").read_text().splitlines()
    assert "-e .[local,tutorials]" in requirements  # repo2docker runs pip from the repository's root
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    assert not (BINDER / "environment.yml").exists()  # it would take precedence over requirements.txt


def test_start_serves_the_local_server_to_the_command_it_runs(start, binder_env: dict[str, str]) -> None:
    first = start("python", "-c", CHECK_SERVER)
    assert first.returncode == 0, first.stderr
    seen = json.loads(first.stdout)
    assert seen["url"].startswith("http://127.0.0.1:")
    assert (seen["openapi"], seen["voices"], seen["wrong_key"]) == (200, 200, 401)
    assert seen["count"] >= 1
    assert seen["key_shape"] == "sg_local_" and seen["key_length"] > 30
    assert seen["package"].startswith(str(ROOT))  # the repository's package, installed from binder/
    assert f"local Speechgen server at {seen['url']}" in first.stderr
    assert "sg_local_" not in first.stderr


def test_start_makes_a_new_key_each_time_and_never_shows_it(start) -> None:
    show = "import os; print(os.environ['SPEECHGEN_API_KEY'])"  # only this test's own command sees it
    one, two = start("python", "-c", show), start("python", "-c", show)
    key_one, key_two = one.stdout.strip(), two.stdout.strip()
    assert key_one.startswith("sg_local_") and key_two.startswith("sg_local_") and key_one != key_two
    for run in (one, two):
        assert key_one not in run.stderr and key_two not in run.stderr
    for path in BINDER.iterdir():
        text = path.read_text()
        assert key_one not in text and key_two not in text


def test_a_real_key_in_the_environment_wins(start, binder_env: dict[str, str]) -> None:
    binder_env["SPEECHGEN_API_KEY"] = "sk-not-real-for-this-test"
    try:
        shown = start("python", "-c", "import os; print(os.environ.get('SPEECHGEN_BASE_URL'))")
    finally:
        del binder_env["SPEECHGEN_API_KEY"]
    assert shown.returncode == 0
    assert shown.stdout.strip() == "None" and "local Speechgen server" not in shown.stderr


def test_a_tutorial_runs_in_the_binder_session(start, binder_env: dict[str, str], tmp_path: Path) -> None:
    """The cloning tutorial, executed by nbconvert with the venv's kernel, against binder/start's server."""
    work = tmp_path / "notebooks"
    work.mkdir()
    shutil.copy(TUTORIAL, work / TUTORIAL.name)
    kernels = start("jupyter", "kernelspec", "list", "--json")
    python3 = json.loads(kernels.stdout)["kernelspecs"]["python3"]
    # The venv's own kernel: its spec lives in the venv, and its `python` is the venv's (first on PATH).
    assert python3["resource_dir"].startswith(binder_env["VIRTUAL_ENV"])
    assert shutil.which(python3["spec"]["argv"][0], path=binder_env["PATH"]).startswith(binder_env["VIRTUAL_ENV"])
    executed = start(
        "jupyter", "nbconvert", "--to", "notebook", "--execute", "--output-dir", str(tmp_path / "out"),
        "--ExecutePreprocessor.kernel_name=python3", "--ExecutePreprocessor.timeout=300",
        str(work / TUTORIAL.name),
    )
    assert executed.returncode == 0, executed.stderr[-3000:]
    nb = nbformat.read(tmp_path / "out" / TUTORIAL.name, as_version=4)
    text = nbformat.writes(nb)
    assert '"output_type": "error"' not in text
    # The kernel used binder/start's server through the environment: it started none of its own.
    assert "no SPEECHGEN_API_KEY set" not in text
    assert "is ready: speak with --voice custom-" in text and "data:audio/mpeg;base64," in text
    assert "sg_local_" not in text
