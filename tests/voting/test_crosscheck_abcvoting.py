"""Cross-check the slate rules against abcvoting with exact algorithms, irresolute.

abcvoting settings: ``resolute=False`` (every winning committee, as ours), ``brute-force`` for
PAV and CC, ``standard-fractions`` for seq-Phragmén and Equal Shares (``equal-shares`` = MES with
seq-Phragmén completion, our ``mes``), the separable algorithm for AV.  No Gurobi.  The committee
sets must be identical.
"""

from __future__ import annotations

from typing import Any

import pytest
from abcvoting import abcrules
from abcvoting.preferences import Profile as ABCProfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voting import parse_ballots, tally

from .conftest import CrossCheckCounter
from .strategies import approval_ballots

RULES = {
    "av": ("av", "standard"),
    "pav": ("pav", "brute-force"),
    "cc": ("cc", "brute-force"),
    "seq-phragmen": ("seqphragmen", "standard-fractions"),
    "mes": ("equal-shares", "standard-fractions"),
}


def reference(names: list[str], ballots: list[dict[str, Any]], rule: str, seats: int) -> set[tuple[str, ...]]:
    prof = ABCProfile(len(names))
    prof.add_voters([[names.index(c) for c in b["approve"]] for b in ballots])
    rule_id, algorithm = RULES[rule]
    committees = abcrules.compute(rule_id, prof, seats, algorithm=algorithm, resolute=False,
                                  max_num_of_committees=None)
    return {tuple(sorted(names[i] for i in com)) for com in committees}


@pytest.mark.parametrize("rule", sorted(RULES))
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=approval_ballots(max_m=6, max_n=9), seats_frac=st.floats(0, 1))
def test_slates_match_abcvoting(rule: str, data: tuple[list[str], list[dict[str, Any]]], seats_frac: float,
                                crosscheck: CrossCheckCounter) -> None:
    names, ballots = data
    seats = 1 + int(seats_frac * (len(names) - 1) * 0.999)
    ours = tally(rule, parse_ballots(ballots, candidates=names), seats=seats)
    assert ours.committees is not None
    assert set(ours.committees) == reference(names, ballots, rule, seats)
    crosscheck.count(rule)


def test_weighted_ballots_equal_repeated_ballots() -> None:
    """Aggregation must not change slates: 3 identical ballots = one ballot of weight 3."""
    ballots = [{"approve": ["a", "b"]}] * 3 + [{"approve": ["c"]}] * 2 + [{"approve": ["d"]}]
    for rule in RULES:
        ours = tally(rule, parse_ballots(ballots), seats=2)
        assert set(ours.committees or ()) == reference(["a", "b", "c", "d"], ballots, rule, 2), rule
