"""Cross-check every ranked / score / approval rule that pref_voting also implements.

Matching settings (our documented rules, reproduced on the reference side):

* truncated ballots: unlisted candidates are tied below all listed ones, i.e. pref_voting's
  ``ProfileWithTies.use_extended_strict_preference()`` for margin-based rules;
* IRV counts a ballot only for listed candidates, splitting tied tops → ``instant_runoff_put``
  with ``score_method="split"`` (pure PUT; the reference has no majority shortcut, same winners);
* plurality: pref_voting refuses ballots with several candidates tied first, so those profiles
  are compared only for the other rules (ours splits the vote — documented);
* Borda: ours is averaged Borda = (symmetric Borda + (m-1)) / 2 per ballot, compared as such;
* Copeland: ours is wins + ½·ties = (pref_voting's wins − losses + (m−1)) / 2;
* score ballots: an unscored candidate counts as the lowest score, so the reference gets the
  ballots with the gaps filled with 0;
* majority judgment: pref_voting implements the majority *gauge*; ours with ``tiebreak="gauge"``
  must agree exactly, and our default (full majority value) must pick a subset of its winners.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from pref_voting.c1_methods import condorcet as pv_condorcet
from pref_voting.c1_methods import copeland as pv_copeland
from pref_voting.grade_methods import approval as pv_approval
from pref_voting.grade_methods import majority_judgement as pv_mj
from pref_voting.grade_methods import score_voting as pv_score
from pref_voting.grade_methods import star as pv_star
from pref_voting.grade_profiles import GradeProfile as PVGradeProfile
from pref_voting.iterative_methods import instant_runoff_put as pv_irv_put
from pref_voting.margin_based_methods import beat_path as pv_schulze
from pref_voting.margin_based_methods import minimax as pv_minimax
from pref_voting.margin_based_methods import minimax_scores as pv_minimax_scores
from pref_voting.margin_based_methods import ranked_pairs as pv_ranked_pairs
from pref_voting.other_methods import kemeny_young as pv_kemeny
from pref_voting.profiles import Profile as PVProfile
from pref_voting.profiles_with_ties import ProfileWithTies
from pref_voting.scoring_methods import borda as pv_borda
from pref_voting.scoring_methods import borda_for_profile_with_ties as pv_borda_ties
from pref_voting.scoring_methods import plurality as pv_plurality

from voting import parse_ballots, tally

from .conftest import CrossCheckCounter
from .strategies import approval_ballots, ranked_ballots, score_ballots

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CYCLE = (["a", "b", "c"], [{"ranking": ["a", "b", "c"]}, {"ranking": ["b", "c", "a"]}, {"ranking": ["c", "a", "b"]}])
TIED_CYCLE = (
    ["a", "b", "c", "d"],
    [{"ranking": ["a", "b", "c"]}, {"ranking": ["b", "c", "a"]}, {"ranking": ["c", "a", "b"]}, {"ranking": [["d", "a"]]}],
)


def to_pv(names: list[str], ballots: list[dict[str, Any]]) -> ProfileWithTies:
    rankings = []
    for b in ballots:
        rmap: dict[int, int] = {}
        for tier, entry in enumerate(b["ranking"]):
            for name in [entry] if isinstance(entry, str) else entry:
                rmap[names.index(name)] = tier + 1
        rankings.append(rmap)
    prof = ProfileWithTies(rankings, candidates=list(range(len(names))))
    prof.use_extended_strict_preference()
    return prof


def names_of(names: list[str], idx: list[int]) -> list[str]:
    return sorted(names[i] for i in idx)


def rp_orders(prof: ProfileWithTies, m: int) -> int:
    """Number of tie-breaking orders pref_voting's ranked pairs enumerates (to bound its run time)."""
    strengths: Counter[int] = Counter()
    for a in range(m):
        for b in range(m):
            if a != b and prof.margin(a, b) >= 0:
                strengths[prof.margin(a, b)] += 1
    return math.prod(math.factorial(k) for k in strengths.values())


@SETTINGS
@given(data=ranked_ballots())
@example(data=CYCLE)
@example(data=TIED_CYCLE)
def test_ranked_rules_match_pref_voting(data: tuple[list[str], list[dict[str, Any]]],
                                        crosscheck: CrossCheckCounter) -> None:
    names, ballots = data
    m = len(names)
    ours = parse_ballots(ballots, candidates=names)
    prof = to_pv(names, ballots)
    n = len(ballots)

    def check(method: str, theirs: list[int]) -> Any:
        result = tally(method, ours)
        assert sorted(result.winners) == names_of(names, theirs), method
        crosscheck.count(method)
        return result

    top_tied = any(not isinstance(b["ranking"][0], str) for b in ballots)
    if not top_tied:
        r = check("plurality", pv_plurality(prof))
        pv_scores = prof.plurality_scores()
        assert {c: r.scores[c] for c in names} == {names[i]: float(v) for i, v in pv_scores.items()}

    r = check("borda", pv_borda_ties(prof))
    from pref_voting.scoring_methods import symmetric_borda_scores

    sym = symmetric_borda_scores(prof)
    assert {names[i]: v for i, v in sym.items()} == {c: 2 * r.scores[c] - (m - 1) * n for c in names}

    check("irv", pv_irv_put(prof, score_method="split"))

    r = check("copeland", pv_copeland(prof))
    cs = prof.copeland_scores()
    assert {names[i]: v for i, v in cs.items()} == {c: 2 * r.scores[c] - (m - 1) for c in names}

    check("schulze", pv_schulze(prof))
    r = check("minimax", pv_minimax(prof))
    assert {names[i]: float(v) for i, v in pv_minimax_scores(prof).items()} == dict(r.scores)
    check("condorcet", pv_condorcet(prof))
    check("kemeny", pv_kemeny(prof))
    if rp_orders(prof, m) <= 20_000:
        check("ranked-pairs", pv_ranked_pairs(prof))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=ranked_ballots(max_m=6, truncate=False, ties=False, max_n=15))
@example(data=CYCLE)
def test_linear_profiles_match_pref_voting_profile(data: tuple[list[str], list[dict[str, Any]]],
                                                   crosscheck: CrossCheckCounter) -> None:
    """Complete strict rankings: compare with pref_voting's linear ``Profile`` implementations too."""
    names, ballots = data
    ours = parse_ballots(ballots, candidates=names)
    prof = PVProfile([[names.index(x) for x in b["ranking"]] for b in ballots])
    pairs = [
        ("plurality", pv_plurality(prof)),
        ("borda", pv_borda(prof)),
        ("irv", pv_irv_put(prof)),
        ("copeland", pv_copeland(prof)),
        ("schulze", pv_schulze(prof)),
        ("minimax", pv_minimax(prof)),
        ("condorcet", pv_condorcet(prof)),
        ("kemeny", pv_kemeny(prof)),
    ]
    if rp_orders(to_pv(names, ballots), len(names)) <= 2_000:
        pairs.append(("ranked-pairs", pv_ranked_pairs(prof)))
    for method, theirs in pairs:
        assert sorted(tally(method, ours).winners) == names_of(names, theirs), method
        crosscheck.count(f"{method} (linear)")
    borda = tally("borda", ours)
    assert {names[i]: float(v) for i, v in prof.borda_scores().items()} == dict(borda.scores)


def grade_profile(names: list[str], ballots: list[dict[str, Any]], grades: list[int]) -> PVGradeProfile:
    filled = [{i: b["scores"].get(c, 0) for i, c in enumerate(names)} for b in ballots]
    return PVGradeProfile(filled, grades, candidates=list(range(len(names))))


@SETTINGS
@given(data=score_ballots())
def test_score_rules_match_pref_voting(data: tuple[list[str], list[dict[str, Any]]],
                                       crosscheck: CrossCheckCounter) -> None:
    names, ballots = data
    ours = parse_ballots(ballots, candidates=names, score_range=(0, 5))
    gprof = grade_profile(names, ballots, [0, 1, 2, 3, 4, 5])

    r = tally("score", ours)
    assert sorted(r.winners) == names_of(names, pv_score(gprof))
    assert dict(r.scores) == {names[i]: float(gprof.sum(i)) for i in range(len(names))}
    crosscheck.count("score")

    assert sorted(tally("star", ours).winners) == names_of(names, pv_star(gprof))
    crosscheck.count("star")

    theirs = names_of(names, pv_mj(gprof))
    assert sorted(tally("majority-judgment", ours, tiebreak="gauge").winners) == theirs
    assert set(tally("majority-judgment", ours).winners) <= set(theirs)
    crosscheck.count("majority-judgment")


@SETTINGS
@given(data=approval_ballots())
def test_approval_matches_pref_voting(data: tuple[list[str], list[dict[str, Any]]],
                                      crosscheck: CrossCheckCounter) -> None:
    names, ballots = data
    ours = parse_ballots(ballots, candidates=names)
    gprof = PVGradeProfile(
        [{i: int(c in b["approve"]) for i, c in enumerate(names)} for b in ballots],
        [0, 1],
        candidates=list(range(len(names))),
    )
    assert sorted(tally("approval", ours).winners) == names_of(names, pv_approval(gprof))
    crosscheck.count("approval")


@pytest.mark.parametrize("method", ["schulze", "ranked-pairs", "copeland", "minimax", "kemeny", "irv"])
def test_condorcet_cycle_is_a_three_way_tie(method: str) -> None:
    names, ballots = CYCLE
    assert sorted(tally(method, parse_ballots(ballots)).winners) == names
