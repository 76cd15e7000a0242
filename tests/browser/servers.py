"""JupyterLab and Notebook 7 servers for real-browser tests (and the widgets benchmark).

Each server runs on 127.0.0.1 on a free port with a fixed token, in its own
process group, with its own config, data and runtime directories (so nothing
of the developer's Jupyter setup leaks in, and nothing of the test's leaks
out), and with the settings the tests need written before it starts:
- the news toast off (it covers the page);
- widget state saved with the notebook (so a test can read what would be saved).

`stop()` shuts down every kernel it started, then the server, then whatever
is left of its process group.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

__all__ = ["JupyterServer", "free_port"]

SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True},
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class JupyterServer:
    """`JupyterServer("lab" | "notebook", root, home, env)`; `.start()`, `.url_for(path)`, `.stop()`."""

    def __init__(self, app: str, root: Path, home: Path, env: dict[str, str] | None = None) -> None:
        if app not in ("lab", "notebook"):
            raise ValueError("app is 'lab' or 'notebook'")
        self.app = app
        self.root = root
        self.home = home
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = home / f"{app}-server.log"
        self.http = httpx.Client(base_url=self.base, headers={"Authorization": f"token {self.token}"}, timeout=30)

    # -- lifecycle ------------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        config, data, runtime, ipython = (self.home / d for d in ("config", "data", "runtime", "ipython"))
        for d in (config, data, runtime, ipython):
            d.mkdir(parents=True, exist_ok=True)
        for name, value in SETTINGS.items():
            path = config / "lab" / "user-settings" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(config),
            JUPYTER_DATA_DIR=str(data),
            JUPYTER_RUNTIME_DIR=str(runtime),
            IPYTHONDIR=str(ipython),
            JUPYTER_PLATFORM_DIRS="1",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60.0) -> JupyterServer:
        module = "jupyterlab" if self.app == "lab" else "notebook"
        env = self._environment()
        command = [
            sys.executable, "-m", module,
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            "--allow-root",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.open_browser=False",
        ]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter {self.app} exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                if self.http.get("/api/status").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"jupyter {self.app} did not answer in {timeout} s:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Every kernel, then the server, then anything left in its process group."""
        if self.proc is None:
            return
        try:
            for kernel in self.kernels():
                self.http.delete(f"/api/kernels/{kernel['id']}")
            self.http.post("/api/shutdown")
        except httpx.HTTPError:
            pass
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                continue
        self.proc = None
        self.http.close()

    # -- REST --------------------------------------------------------------------------

    def url_for(self, notebook: str) -> str:
        """The page that opens `notebook` in this app.

        In JupyterLab each notebook gets a workspace of its own: the default one
        would reopen the previous test's notebook in a hidden tab next to it.
        """
        workspace = notebook.rsplit(".", 1)[0].replace("/", "-")
        path = f"lab/workspaces/{workspace}/tree/{notebook}" if self.app == "lab" else f"notebooks/{notebook}"
        return f"{self.base}/{path}?token={self.token}"

    def kernels(self) -> list[dict[str, Any]]:
        response = self.http.get("/api/kernels")
        if response.status_code != 200:  # a 500 while a kernel starts: "not yet"
            return []
        return list(response.json())

    def sessions(self) -> list[dict[str, Any]]:
        return list(self.http.get("/api/sessions").json())

    def end_sessions(self) -> None:
        """Kernels outlive the page: end every session (and its kernel) after a test."""
        for session in self.sessions():
            self.http.delete(f"/api/sessions/{session['id']}")

    def kernel_ready(self) -> bool:
        """A kernel exists, is idle and has a page connected to it."""
        return any(k.get("execution_state") == "idle" and k.get("connections", 0) >= 1 for k in self.kernels())

    def kernel_idle(self) -> bool:
        kernels = self.kernels()
        return bool(kernels) and all(k.get("execution_state") == "idle" for k in kernels)

    def run_in_kernel(self, code: str, timeout: float = 30.0) -> str:
        """Run `code` in the (one) kernel through a second client and return what it printed.

        The page does not show it (a frontend shows only its own requests' outputs);
        tests use it to read the kernel's side of the story, e.g. what a widget received.
        """
        from jupyter_client import BlockingKernelClient

        (kernel,) = self.kernels()
        client = BlockingKernelClient(connection_file=str(self.home / "runtime" / f"kernel-{kernel['id']}.json"))
        client.load_connection_file()
        client.start_channels()
        printed: list[str] = []

        def collect(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream":
                printed.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                printed.append("\n".join(msg["content"]["traceback"]))

        try:
            reply = client.execute_interactive(code, timeout=timeout, output_hook=collect, store_history=False)
        finally:
            client.stop_channels()
        if reply["content"]["status"] != "ok":
            raise AssertionError(f"kernel code failed: {''.join(printed)}")
        return "".join(printed)

    def read_notebook(self, name: str) -> dict[str, Any] | None:
        """The notebook as saved on disk; None while the server is still writing it."""
        try:
            return dict(json.loads((self.root / name).read_text()))
        except (json.JSONDecodeError, FileNotFoundError):
            return None
