"""`python -m benchmarks`: every benchmark the issues name, measured in one run, as one table.

Each `bench_*` module measures its candidate against its baseline side by side
and returns `Row`s (a ratio or a rate, with the aim its issue set). This runs
them all, one after the other on the same machine in the same run, prints one
table, and writes it to BENCHMARKS.md at the repository root with the machine,
the date and the commit it ran on, so the figures in the repository are always
a real run's.

    python -m benchmarks                      # everything, and write BENCHMARKS.md
    python -m benchmarks --only client        # some of it, printed only
    python -m benchmarks --only magics --only widgets --output /tmp/b.md

A module that is missing (a part not written yet) is listed as such; one that
fails is reported with its error and the others still run (the exit status
then says so).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import re
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks._report import Row, machine

ROOT = Path(__file__).resolve().parent.parent

#: name for --only -> (module, what it measures, for the table's headings)
SUITES: dict[str, tuple[str, str]] = {
    "client": ("benchmarks.bench_client", "Client (issue 2)"),
    "local_server": ("benchmarks.bench_local_server", "Local server (issue 3)"),
    "magics": ("benchmarks.bench_magics", "Magics and batch (issue 4)"),
    "widgets": ("benchmarks.bench_widgets", "Widgets (issue 5)"),
    "faults": ("benchmarks.bench_faults", "Under faults (issue 7)"),
    "audio": ("benchmarks.bench_audio", "Sample checks (issue 15)"),
    "samples": ("benchmarks.bench_samples", "Sample report (issue 13)"),
    "selection": ("benchmarks.bench_selection", "Sample selection in the browser (issue 13)"),
    "voices": ("benchmarks.bench_voices", "Neural voices and clones (issue 14)"),
    "streaming": ("benchmarks.bench_streaming", "Streamed playback (issue 12)"),
    "cache": ("benchmarks.bench_cache", "Speech cache (issue 12)"),
    "batch": ("benchmarks.bench_batch", "Adaptive, resumable batches (issue 12)"),
}


@dataclass
class Outcome:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    seconds: float = 0.0
    status: str = "ran"  # ran | missing | failed
    error: str = ""


def run_suite(name: str) -> Outcome:
    module_name, title = SUITES[name]
    outcome = Outcome(name, title)
    started = time.perf_counter()
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name == module_name:
            outcome.status, outcome.error = "missing", f"{module_name} does not exist yet"
            return outcome
        raise
    try:
        outcome.rows = list(module.run())
    except Exception as err:  # noqa: BLE001 - reported, and the other suites still run
        outcome.status = "failed"
        outcome.error = f"{type(err).__name__}: {err}"
        traceback.print_exc()
    outcome.seconds = time.perf_counter() - started
    return outcome


_AIM = re.compile(r"(<=|>=|<|>)\s*(~?)\s*([0-9]*\.?[0-9]+)(?:\s*(ms|s)\b)?")
_SECONDS = {"s": 1.0, "ms": 0.001}


def verdict(row: Row) -> str:
    """'met' or 'missed' when the aim is a plain bound on the row's value ('~' allows 10 %); else ''.

    An aim in seconds or milliseconds is compared in the row's own unit ("< 1 s" against 82 ms).
    """
    match = _AIM.search(row.aim)
    if match is None:
        return ""
    op, about, number, unit = match.group(1), match.group(2), float(match.group(3)), match.group(4)
    if unit and row.unit in _SECONDS:
        number = number * _SECONDS[unit] / _SECONDS[row.unit]
    slack = 0.1 * number if about else 0.0
    ok = {
        "<=": row.value <= number + slack,
        "<": row.value < number + slack,
        ">=": row.value >= number - slack,
        ">": row.value > number - slack,
    }[op]
    return "met" if ok else "missed"


def one_table(outcomes: list[Outcome]) -> str:
    lines = ["| area | benchmark | result | aim | met? | how |", "|---|---|---|---|---|---|"]
    for outcome in outcomes:
        area = outcome.title
        if outcome.status != "ran":
            lines.append(f"| {area} | ({outcome.status}) | | | | {outcome.error} |")
            continue
        for row in outcome.rows:
            lines.append(f"| {area} | {row.name} | {row.formatted()} | {row.aim} | {verdict(row)} | {row.detail} |")
    return "\n".join(lines)


def describe_machine() -> str:
    """The machine as a reader needs it to judge the figures: CPU model, cores, memory, OS, Python."""
    cpu = platform.processor() or platform.machine()
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB memory"
                break
    except OSError:
        pass
    return f"{machine()}; {cpu}{memory}; {platform.platform()}"


def load() -> str:
    """The 1-minute load average: other work on the machine slows every figure, so the report says how busy it was."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


def commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return out + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def report(outcomes: list[Outcome], started: dt.datetime, seconds: float, loads: tuple[str, str]) -> str:
    timing = ", ".join(f"{o.name} {o.seconds:.0f} s" for o in outcomes if o.status != "missing")
    notes = [f"- {o.title}: {o.status} ({o.error})" for o in outcomes if o.status != "ran"]
    return "\n".join(
        [
            "# Benchmarks",
            "",
            "Every benchmark the issues name, each a ratio or a rate measured side by side in one run of",
            "`python -m benchmarks` (this file is that command's output; run it again to refresh it).",
            "Servers run as their own processes (`python -m speechgen_jupyter.local`) on loopback.",
            "",
            f"- Machine: {describe_machine()}",
            f"- Date: {started.strftime('%Y-%m-%d %H:%M UTC')}",
            f"- Commit: {commit()}",
            (f"- Run time: {seconds / 60:.1f} min ({timing}); load average {loads[0]} at the start, {loads[1]} at the end "
             f"({os.cpu_count()} cores: above that, other work shared the machine and slowed the figures)"),
            "",
            one_table(outcomes),
            "",
            "`met?` compares the result with the aim when the aim is a plain bound (`~` allows 10 %);",
            "rows marked (baseline), (for scale) or (rate) are measured for comparison and have no aim.",
            *([""] + notes if notes else []),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=sorted(SUITES), metavar="NAME",
                        help=f"run only this suite (repeatable): {', '.join(SUITES)}")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the report (default: BENCHMARKS.md for a full run; nothing with --only)")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args(argv)

    names = args.only or list(SUITES)
    started = dt.datetime.now(dt.timezone.utc)
    load_before = load()
    t0 = time.perf_counter()
    outcomes = []
    for name in names:
        print(f"-- {SUITES[name][1]} ...", file=sys.stderr, flush=True)
        outcomes.append(run_suite(name))
        print(f"   {outcomes[-1].status} in {outcomes[-1].seconds:.0f} s", file=sys.stderr, flush=True)
    text = report(outcomes, started, time.perf_counter() - t0, (load_before, load()))
    print(text)
    output = args.output or (None if args.only else ROOT / "BENCHMARKS.md")
    if output is not None and not args.no_write:
        output.write_text(text)
        print(f"written to {output}", file=sys.stderr)
    return 1 if any(o.status == "failed" for o in outcomes) else 0


if __name__ == "__main__":
    os.environ.pop("SPEECHGEN_API_KEY", None)  # benchmarks make their own keys and servers
    os.environ.pop("SPEECHGEN_BASE_URL", None)
    # Kernels and clients started by benchmarks keep their speech cache and model record in folders of
    # this run, never in the user's own (and never find speech a previous run left there).
    import tempfile

    _dirs = tempfile.mkdtemp(prefix="speechgen-bench-")
    os.environ["SPEECHGEN_CACHE_DIR"] = os.path.join(_dirs, "cache")
    os.environ["SPEECHGEN_DATA_DIR"] = os.path.join(_dirs, "data")
    sys.exit(main())
