"""Hand-checked cases for the documented tie and truncation rules of each method."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting import TooLargeError, parse_ballots, tally
from voting.rules.kemeny import MAX_CANDIDATES
from voting.rules.majority_judgment import compare_majority_value


def ranked(*rankings: list[object], times: int = 1) -> list[dict[str, object]]:
    return [{"ranking": r} for r in rankings] * times


def test_plurality_splits_a_tied_top() -> None:
    p = parse_ballots(ranked(["a"], [["a", "b"]], [["b", "c", "d"]]))
    r = tally("plurality", p)
    assert r.scores == pytest.approx({"a": 1.5, "b": 0.5 + 1 / 3, "c": 1 / 3, "d": 1 / 3})
    assert r.winners == ("a",)


def test_irv_exhausts_truncated_ballots() -> None:
    # a 3, b 2, c 2: b and c tie for last (both branches tried).  Without b, "b" is exhausted and
    # "b>c" moves: a 3, c 3 → tie again; without c likewise a 3, b 3.  Everyone wins somewhere.
    p = parse_ballots(ranked(["a"], ["a"], ["a"], ["b", "c"], ["b"], ["c", "b"], ["c"]))
    assert tally("irv", p).winners == ("a", "b", "c")
    # a 3, b 2, c 1: c out, its ballot moves to b → a 3, b 3: a tie, reported as such.
    p2 = parse_ballots(ranked(["a"], ["a"], ["a"], ["b", "c"], ["b", "c"], ["c", "b"]))
    assert tally("irv", p2).winners == ("a", "b")
    # c's only ballot is truncated ("c" alone): it is exhausted, not moved → a wins 3:2.
    p3 = parse_ballots(ranked(["a"], ["a"], ["a"], ["b", "c"], ["b", "c"], ["c"]))
    assert tally("irv", p3).winners == ("a",)


def test_borda_half_points_for_ties_and_unlisted() -> None:
    p = parse_ballots(ranked(["a", ["b", "c"]]), candidates=["a", "b", "c", "d"])
    assert tally("borda", p).scores == {"a": 3, "b": 1.5, "c": 1.5, "d": 0}


def test_condorcet_no_winner_is_a_tie_of_all() -> None:
    p = parse_ballots(ranked(["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]))
    r = tally("condorcet", p)
    assert r.winners == ("a", "b", "c") and r.details["condorcet_winner"] is None and r.tied


def test_ranked_pairs_parallel_universes() -> None:
    # a>b 2, b>c 2, c>a 2 (equal margins): every edge order possible → all three win.
    p = parse_ballots(ranked(["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], times=2))
    assert tally("ranked-pairs", p).winners == ("a", "b", "c")
    q = parse_ballots(ranked(["a", "b", "c"], ["a", "c", "b"], ["b", "a", "c"]))
    assert tally("ranked-pairs", q).winners == ("a",)


def test_seeded_tiebreak_is_reproducible_and_reported() -> None:
    p = parse_ballots(ranked(["a", "b"], ["b", "a"], [["c", "d"]]))
    first = tally("borda", p, tiebreak_seed=11)
    again = tally("borda", p, tiebreak_seed=11)
    assert first.tiebreak is not None and first.tiebreak == again.tiebreak
    assert first.winners == ("a", "b") and first.tiebreak.chosen in first.winners
    assert tally("borda", p).tiebreak is None


def test_slate_tiebreak_picks_one_committee() -> None:
    p = parse_ballots([{"approve": ["a"]}, {"approve": ["b"]}, {"approve": ["c"]}])
    r = tally("av", p, seats=2, tiebreak_seed=5)
    assert r.committees is not None and len(r.committees) == 3
    assert r.tiebreak is not None and r.tiebreak.chosen in r.committees


def test_kemeny_refuses_above_limit() -> None:
    names = [f"c{i:02d}" for i in range(MAX_CANDIDATES + 1)]
    p = parse_ballots(ranked(names))
    with pytest.raises(TooLargeError):
        tally("kemeny", p)


def test_kemeny_unique_ranking() -> None:
    p = parse_ballots(ranked(["a", "b", "c", "d"], times=3) + ranked(["d", "c", "b", "a"]))
    r = tally("kemeny", p)
    assert r.ranking == (("a",), ("b",), ("c",), ("d",)) and r.details["unique_ranking"]


def test_star_runoff() -> None:
    p = parse_ballots([{"scores": {"a": 5, "b": 4}}, {"scores": {"a": 5, "b": 4}}, {"scores": {"b": 5, "c": 5}},
                       {"scores": {"b": 1, "a": 0, "c": 5}}])
    r = tally("star", p)
    # sums: a 10, b 14, c 10 → b leads, a and c share second: runoffs b–a (2:2, tie) and b–c (2:1).
    assert r.winners == ("a", "b")


def test_majority_judgment_majority_value_refines_gauge() -> None:
    # Same median (good = 3) and same gauge; majority value separates them.
    a = [0, 1, 0, 2, 1, 0]  # poor, good, good, very good
    b = [1, 0, 0, 2, 1, 0]  # reject, good, good, very good
    assert compare_majority_value(a, b) == -1
    ballots = []
    for grades_a, grades_b in [("poor", "reject"), ("good", "good"), ("good", "good"), ("very good", "very good")]:
        ballots.append({"grades": {"a": grades_a, "b": grades_b}})
    p = parse_ballots(ballots)
    assert tally("majority-judgment", p).winners == ("a",)
    assert tally("majority-judgment", p, tiebreak="gauge").winners == ("a", "b")


def test_majority_judgment_on_scores() -> None:
    p = parse_ballots([{"scores": {"a": 5, "b": 3}}, {"scores": {"a": 0, "b": 3}}, {"scores": {"a": 4, "b": 3}}])
    r = tally("majority-judgment", p)
    assert r.winners == ("a",) and r.details["median_grade"] == {"a": "4", "b": "3"}


def test_plurality_on_yes_no() -> None:
    p = parse_ballots([{"choice": "no"}, {"choice": "abstain"}, {"choice": "abstain"}, {"choice": "yes"}])
    r = tally("plurality", p)
    assert r.winners == ("yes", "no") and r.details["abstain"] == 2


def naive_majority_value(counts: list[int]) -> list[int]:
    """Balinski–Laraki majority value, one voter at a time: lower median, remove it, repeat."""
    grades = sorted(g for g, c in enumerate(counts) for _ in range(c))
    out = []
    while grades:
        med = grades[(len(grades) - 1) // 2]
        out.append(med)
        grades.remove(med)
    return out


@settings(max_examples=300, deadline=None)
@given(a=st.lists(st.integers(0, 6), min_size=4, max_size=4), b=st.lists(st.integers(0, 6), min_size=4, max_size=4))
def test_majority_value_runs_match_naive_definition(a: list[int], b: list[int]) -> None:
    if sum(a) != sum(b) or sum(a) == 0:
        return  # every voter grades every candidate: equal totals
    va, vb = naive_majority_value(a), naive_majority_value(b)
    expected = -1 if va > vb else 1 if va < vb else 0
    assert compare_majority_value(a, b) == expected


def test_ranked_pairs_small_electorate_many_equal_margins_is_fast() -> None:
    """10 voters, 12 options: margins take few values, so tie groups are large (PUT search)."""
    import time

    import numpy as np

    rng = np.random.default_rng(0)
    names = [f"o{i:02d}" for i in range(12)]
    for _ in range(3):
        ballots = [{"ranking": [str(x) for x in rng.permutation(names)[: rng.integers(1, 13)]]} for _ in range(10)]
        started = time.process_time()
        result = tally("ranked-pairs", parse_ballots(ballots, candidates=names))
        assert result.winners and time.process_time() - started < 5


@pytest.mark.parametrize("rule", ["av", "pav", "cc", "seq-phragmen", "mes"])
def test_tied_committee_list_is_capped_and_says_so(rule: str) -> None:
    # 8 candidates approved by nobody but one voter each: every 3-slate of them ties.
    p = parse_ballots([{"approve": [c]} for c in "abcdefgh"])
    full = tally(rule, p, seats=3)
    assert full.committees is not None and len(full.committees) == 56
    assert full.details["committees_truncated"] is False
    capped = tally(rule, p, seats=3, max_committees=10)
    assert capped.committees is not None and len(capped.committees) == 10
    assert capped.details["committees_truncated"] is True
