"""Voting test fixtures: ballot strategies and the cross-check counter.

Every comparison against ``pref_voting`` / ``abcvoting`` calls ``crosscheck.count(rule)``; the
totals are printed at the end of the run and written to ``test-output/voting_crosschecks.json``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CROSSCHECKS: Counter[str] = Counter()


class CrossCheckCounter:
    def count(self, rule: str, n: int = 1) -> None:
        CROSSCHECKS[rule] += n


@pytest.fixture(scope="session")
def crosscheck() -> CrossCheckCounter:
    return CrossCheckCounter()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not CROSSCHECKS:
        return
    total = sum(CROSSCHECKS.values())
    terminalreporter.write_sep("-", f"voting cross-checks against pref_voting/abcvoting: {total} cases")
    for rule, n in sorted(CROSSCHECKS.items()):
        terminalreporter.write_line(f"  {rule:<32} {n}")
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    (out / "voting_crosschecks.json").write_text(json.dumps({"total": total, "by_rule": dict(CROSSCHECKS)}, indent=2))
