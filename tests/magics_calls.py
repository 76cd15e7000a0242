"""Helpers for running cells in the test shell (plain functions; the fixtures live in magics_env)."""

from __future__ import annotations

from typing import Any

TEXT = "The quick brown fox jumps over the lazy dog."


def magics_of(ip: Any) -> Any:
    from speechgen_jupyter.magics import SpeechgenMagics

    found = [c for c in ip.configurables if isinstance(c, SpeechgenMagics)]
    assert len(found) == 1, found
    return found[0]


def run(ip: Any, cell: str) -> Any:
    """Run a cell; return its ExecutionResult (errors are in .error_in_exec / .error_before_exec)."""
    return ip.run_cell(cell, store_history=False)


def ok(ip: Any, cell: str) -> Any:
    """Run a cell that must succeed; return its value."""
    result = run(ip, cell)
    assert result.error_before_exec is None, result.error_before_exec
    assert result.error_in_exec is None, result.error_in_exec
    return result.result
