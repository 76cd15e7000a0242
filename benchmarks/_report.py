"""One row format for every benchmark, so `python -m benchmarks` can gather them.

A benchmark measures its candidate and its baseline side by side in one run
and reports the ratio (or a rate), with the aim the issue set, so a reader
sees at a glance what was measured against what.
"""

from __future__ import annotations

import platform
import statistics
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class Row:
    name: str
    value: float
    unit: str
    aim: str = ""
    detail: str = ""

    def formatted(self) -> str:
        if self.unit == "x":
            return f"{self.value:.2f}x"
        if self.unit in ("s", "ms"):
            return f"{self.value:.3g} {self.unit}"
        if float(self.value).is_integer():  # a count: 1401 lines, not 1.4e+03
            return f"{int(self.value)} {self.unit}"
        return f"{self.value:.3g} {self.unit}"


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def machine() -> str:
    import os

    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def table(rows: list[Row]) -> str:
    lines = ["| benchmark | result | aim | how |", "|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row.name} | {row.formatted()} | {row.aim} | {row.detail} |")
    return "\n".join(lines)


def print_rows(title: str, rows: list[Row]) -> None:
    print(f"## {title}\n\n{machine()}\n")
    print(table(rows))
