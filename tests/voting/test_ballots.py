"""Ballot parsing: shapes, aggregation of identical ballots, and errors naming line and field."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from voting import (
    ApprovalProfile,
    BallotError,
    ChoiceProfile,
    GradeProfile,
    RankedProfile,
    ScoreProfile,
    parse_ballots,
    parse_jsonl,
)


def test_ranked_ties_and_truncation() -> None:
    p = parse_ballots([{"ranking": ["a", ["b", "c"]]}], candidates=["a", "b", "c", "d"])
    assert isinstance(p, RankedProfile)
    assert p.ranks.tolist() == [[0, 1, 1, 2]]
    assert p.listed.tolist() == [[True, True, True, False]]
    # d is unlisted: tied below b and c; b and c tied with each other
    assert p.support_matrix().tolist() == [[0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]


def test_identical_ballots_are_aggregated() -> None:
    text = '{"ranking": ["a", "b"]}\n{"ranking":["a","b"]}\n\n  {"ranking": ["a", "b"]}  \n{"ranking": ["b"]}\n'
    p = parse_jsonl(text)
    assert isinstance(p, RankedProfile)
    assert p.num_voters == 4
    assert sorted(p.weights.tolist()) == [1, 3]


def test_candidates_default_to_sorted_names() -> None:
    p = parse_ballots([{"approve": ["zeta", "alpha"]}, {"approve": ["mid"]}])
    assert isinstance(p, ApprovalProfile)
    assert p.candidates == ("alpha", "mid", "zeta")


def test_score_grade_choice_profiles() -> None:
    s = parse_ballots([{"scores": {"a": 4}}, {"scores": {"a": 1, "b": 3}}], score_range=(1, 5))
    assert isinstance(s, ScoreProfile)
    assert sorted(map(tuple, s.scores.tolist())) == [(1, 3), (4, 1)]  # unscored → lowest score
    g = parse_ballots([{"grades": {"a": "good"}}], candidates=["a", "b"])
    assert isinstance(g, GradeProfile)
    assert g.grades.tolist() == [[3, 0]]
    c = parse_ballots([{"choice": "yes"}, {"choice": "abstain"}, {"choice": "yes"}])
    assert isinstance(c, ChoiceProfile)
    assert c.counts == {"yes": 2, "no": 0, "abstain": 1}


def test_receipt_and_id_fields_are_ignored() -> None:
    p = parse_ballots([{"approve": ["a"], "receipt": "X1"}, {"approve": ["a"], "id": 7}])
    assert p.num_voters == 2 and isinstance(p, ApprovalProfile) and p.weights.tolist() == [2]


BAD: list[tuple[str, int, str | None, str]] = [
    ('{"ranking": ["a", "b"]}\n{"ranking": ["a", "a"]}', 2, "ranking", "listed twice"),
    ('{"ranking": ["a"]}\n{"ranking": ["a", ["b", "a"]]}', 2, "ranking", "listed twice"),
    ('{"ranking": ["a"]}\n{"ranking": []}', 2, "ranking", "empty ballot"),
    ('{"approve": []}', 1, "approve", "empty ballot"),
    ('{"ranking": ["a"]}\n{"ranking": ["zz"]}', 2, "ranking", "unknown candidate 'zz'"),
    ('{"scores": {"a": 3}}\n{"scores": {"a": 6}}', 2, "scores.a", "not an integer in 0..5"),
    ('{"scores": {"a": 2.5}}', 1, "scores.a", "not an integer"),
    ('{"scores": {"a": true}}', 1, "scores.a", "not an integer"),
    ('{"scores": {}}', 1, "scores", "empty ballot"),
    ('{"scores": {"a": 1, "a": 2}}', 1, "a", "duplicate key"),
    ('{"ranking": ["a"]}\n{"ranking": ["a"]\n', 2, None, "malformed JSON"),
    ('{"ranking": ["a"]}\n[1, 2]', 2, None, "JSON object"),
    ('{"ranking": ["a"]}\n{"approve": ["a"]}', 2, "approve", "expected ranked"),
    ('{"ranking": ["a"], "approve": ["a"]}', 1, "approve", "exactly one"),
    ('{"vote": "a"}', 1, "vote", "unknown field"),
    ('{"ranking": "a"}', 1, "ranking", "must be a list"),
    ('{"ranking": [["a"], []]}', 1, "ranking", "non-empty lists"),
    ('{"ranking": [1]}', 1, "ranking", "names"),
    ('{"grades": {"a": "superb"}}', 1, "grades.a", "not one of"),
    ('{"choice": "maybe"}', 1, "choice", "yes, no, abstain"),
    ('{"approve": ["a"]}\n\n{"approve": ["a", "b", "b"]}', 3, "approve", "listed twice"),
]


@pytest.mark.parametrize(("text", "line", "field", "message"), BAD)
def test_bad_ballots_name_line_and_field(text: str, line: int, field: str | None, message: str) -> None:
    with pytest.raises(BallotError) as err:
        parse_jsonl(text, candidates=["a", "b"] if "zz" in text else None)
    assert err.value.line == line
    assert err.value.field == field
    assert message in str(err.value)


def test_error_reports_first_bad_line_even_when_deduplicated() -> None:
    lines = ['{"approve": ["a"]}'] * 5 + ['{"approve": ["a", "a"]}', '{"approve": ["b"]}', '{"approve": ["a", "a"]}']
    with pytest.raises(BallotError) as err:
        parse_jsonl("\n".join(lines))
    assert err.value.line == 6


def test_dict_api_positions() -> None:
    ballots: list[Any] = [{"approve": ["a"]}, {"approve": ["a"]}, {"approve": ["c"]}]
    with pytest.raises(BallotError) as err:
        parse_ballots(ballots, candidates=["a", "b"])
    assert err.value.line == 3 and err.value.field == "approve"
    assert err.value.to_dict()["code"] == "bad_ballot"


def test_no_ballots_and_bad_declarations() -> None:
    with pytest.raises(BallotError):
        parse_jsonl("\n\n")
    with pytest.raises(BallotError):
        parse_ballots([{"scores": {"a": 1}}], score_range=(5, 0))
    with pytest.raises(BallotError):
        parse_ballots([{"grades": {"a": "ok"}}], grade_scale=["ok", "ok"])


def test_aggregated_profile_matches_unaggregated_counts() -> None:
    rng = np.random.default_rng(3)
    ballots = [{"ranking": list(rng.permutation(["a", "b", "c"])[: rng.integers(1, 4)])} for _ in range(300)]
    p = parse_ballots(ballots)
    assert isinstance(p, RankedProfile)
    assert p.num_voters == 300 and p.ranks.shape[0] <= 15
    expected = np.zeros((3, 3), dtype=int)
    for b in ballots:
        order = b["ranking"] + [c for c in "abc" if c not in b["ranking"]]
        for i, x in enumerate(order):
            for y in order[i + 1 :]:
                if x in b["ranking"]:
                    expected["abc".index(x), "abc".index(y)] += 1
    assert p.support_matrix().tolist() == expected.tolist()


@pytest.mark.parametrize(
    ("ballots", "field"),
    [
        ([{"scores": {"a": 1}}, {"scores": {1: 2}}], "scores"),
        ([{"approve": ["a"]}, {"approve": [["a"]]}], "approve"),
        ([{"ranking": ["a"]}, {"ranking": [3]}], "ranking"),
        ([{"choice": "yes"}, {"choice": True}], "choice"),
        ([{"approve": ["a"]}, "approve a"], None),
    ],
)
def test_python_dict_ballots_with_wrong_types(ballots: list[Any], field: str | None) -> None:
    with pytest.raises(BallotError) as err:
        parse_ballots(ballots)
    assert err.value.line == 2 and err.value.field == field
