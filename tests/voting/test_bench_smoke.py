"""The benchmark script runs (quick, ours only) and reports the all-methods timing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_quick_ours_only() -> None:
    out = subprocess.run(
        [sys.executable, "benchmarks/voting_bench.py", "--quick", "--skip-reference"],
        capture_output=True, text=True, cwd=ROOT, check=True, timeout=300,
    )
    assert "all 9 ranked methods on 100,000 ranked ballots" in out.stdout
