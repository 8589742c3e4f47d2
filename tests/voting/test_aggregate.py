"""Per-group results, support tables, minority positions, quorum and supermajority."""

from __future__ import annotations

from fractions import Fraction

import pytest

from voting import VotingError, parse_ballots
from voting.aggregate import (
    choice_thresholds,
    group_results,
    group_support,
    minority_positions,
    thresholds,
)
from voting.profiles import ChoiceProfile


def test_group_results_share_candidates() -> None:
    ballots = [{"approve": ["a"]}, {"approve": ["a", "b"]}, {"approve": ["c"]}, {"approve": ["c"]}]
    out = group_results("approval", ballots, ["north", "north", "south", "south"])
    assert out.overall.winners == ("a", "c")
    assert out.groups["north"].winners == ("a",) and out.groups["south"].winners == ("c",)
    assert out.groups["north"].candidates == ("a", "b", "c")
    assert out.sizes == {"north": 2, "south": 2}
    assert out.to_dict()["groups"]["south"]["winners"] == ["c"]


def test_group_results_length_mismatch() -> None:
    with pytest.raises(VotingError):
        group_results("approval", [{"approve": ["a"]}], [])


def test_support_table_and_minority_positions() -> None:
    # 6 voters, 2 groups; option "y" is rejected overall but backed by group B.
    support = [[1, 0], [1, 0], [1, 0], [1, 0], [0, 1], [0, 1]]
    table = group_support(support, ["A", "A", "A", "A", "B", "B"], ["x", "y"])
    assert table.share.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert table.overall.tolist() == pytest.approx([4 / 6, 2 / 6])
    found = minority_positions(table, strong=0.6, adopted=0.5)
    assert [(p.option, p.group, p.group_size) for p in found] == [("y", "B", 2)]
    assert minority_positions(table, min_group_size=3) == []
    assert table.to_dict()["groups"]["B"]["support"] == {"x": 0.0, "y": 1.0}


@pytest.mark.parametrize(
    ("yes", "no", "abstain", "eligible", "quorum", "majority", "passed"),
    [
        (6, 4, 0, 20, "1/2", "1/2", True),
        (5, 5, 0, 20, "1/2", "1/2", False),  # simple majority must exceed one half
        (6, 3, 0, 20, "1/2", "2/3", False),  # turnout 9/20 < 1/2
        (6, 3, 1, 20, "1/2", "2/3", True),  # abstention counts for quorum; 6/9 = 2/3 meets "at least"
        (5, 3, 2, 20, "1/2", "2/3", False),
        (0, 0, 10, 10, "1/2", "1/2", False),
    ],
)
def test_thresholds(yes: int, no: int, abstain: int, eligible: int, quorum: str, majority: str, passed: bool) -> None:
    r = thresholds(yes, no, abstain, eligible=eligible, quorum=quorum, majority=majority)
    assert r.passed is passed
    assert r.turnout == Fraction(yes + no + abstain, eligible)
    assert r.to_dict()["passed"] is passed


def test_thresholds_reject_bad_counts() -> None:
    with pytest.raises(VotingError):
        thresholds(5, 5, 0, eligible=3)
    with pytest.raises(VotingError):
        thresholds(5, 5, 0, eligible=10, majority="two thirds")
    with pytest.raises(VotingError):
        thresholds(5, 5, 0, eligible=10, quorum=2)


def test_choice_thresholds() -> None:
    p = parse_ballots([{"choice": "yes"}] * 7 + [{"choice": "no"}] * 3)
    assert isinstance(p, ChoiceProfile)
    assert choice_thresholds(p, eligible=12, majority="2/3").passed
