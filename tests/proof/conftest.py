"""Fixtures of the proof suite: real servers on loopback, real HTTP, real SQLite.

`serve(**options)` starts an in-process server (module scope, like
tests/local, so a module's tests share the servers they start); the
out-of-process server that a test can SIGKILL lives in support.py.
"""

from __future__ import annotations






