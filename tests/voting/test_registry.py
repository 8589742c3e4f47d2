"""Every registered rule, through the one dispatcher: result shape, ties, bad input."""

from __future__ import annotations

import pytest

from voting import MethodInputError, UnknownMethodError, methods, parse_ballots, tally
from voting.profiles import Profile

SAMPLES: dict[str, Profile] = {
    "ranked": parse_ballots([{"ranking": ["a", "b", "c"]}, {"ranking": ["b", ["a", "c"]]}, {"ranking": ["c"]}]),
    "approval": parse_ballots([{"approve": ["a", "b"]}, {"approve": ["c"]}, {"approve": ["a"]}]),
    "score": parse_ballots([{"scores": {"a": 5, "b": 2}}, {"scores": {"b": 4, "c": 1}}]),
    "grades": parse_ballots([{"grades": {"a": "good", "b": "poor"}}, {"grades": {"b": "excellent"}}]),
    "choice": parse_ballots([{"choice": "yes"}, {"choice": "no"}, {"choice": "yes"}]),
}
RULE_IDS = sorted(methods())
EXPECTED = {
    "plurality", "approval", "score", "star", "borda", "irv", "copeland", "schulze", "ranked-pairs",
    "minimax", "condorcet", "majority-judgment", "kemeny", "av", "pav", "seq-phragmen", "mes", "cc",
}


def test_registry_has_every_required_rule() -> None:
    assert EXPECTED <= set(RULE_IDS)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_result_shape(rule_id: str) -> None:
    rule = methods()[rule_id]
    for kind in rule.kinds:
        profile = SAMPLES[kind]
        result = tally(rule_id, profile, seats=2 if rule.slate else None)
        d = result.to_dict()
        assert d["method"] == rule_id
        assert d["winners"] and set(d["winners"]) <= set(profile.candidates)
        ranked = [c for tier in d["ranking"] for c in tier]
        assert len(ranked) == len(set(ranked))
        assert set(d["ranking"][0]) <= set(d["winners"]) or rule.slate
        assert isinstance(d["scores"], dict)
        if rule.slate:
            assert all(len(c) == 2 for c in d["committees"])


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_refuses_other_ballot_kinds(rule_id: str) -> None:
    rule = methods()[rule_id]
    other = next(k for k in SAMPLES if k not in rule.kinds)
    with pytest.raises(MethodInputError):
        tally(rule_id, SAMPLES[other], seats=1)


@pytest.mark.parametrize("rule_id", [r for r in RULE_IDS if methods()[r].slate])
@pytest.mark.parametrize("seats", [None, 0, 4])
def test_slate_rules_check_seats(rule_id: str, seats: int | None) -> None:
    with pytest.raises(MethodInputError):
        tally(rule_id, SAMPLES["approval"], seats=seats)


def test_single_winner_rejects_seats() -> None:
    with pytest.raises(MethodInputError):
        tally("borda", SAMPLES["ranked"], seats=2)


def test_unknown_method() -> None:
    with pytest.raises(UnknownMethodError):
        tally("dictator", SAMPLES["ranked"])
