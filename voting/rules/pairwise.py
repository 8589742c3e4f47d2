"""Pairwise (majority-margin) rules on ranked ballots.

All of them start from the weighted margin matrix ``M[a, b]`` = voters ranking ``a`` strictly
above ``b`` minus voters ranking ``b`` strictly above ``a``.  Candidates tied on a ballot count
for neither side; unlisted candidates are tied below every listed candidate (``pref_voting``'s
*extended strict preference*).  ``ranking`` is by score for copeland and minimax; for the others
it is by repeated winner removal (the winners, then the winners among the rest, …).

* **condorcet** — the candidate with a positive margin over every other wins; if there is none,
  all candidates are tied winners (as ``pref_voting.condorcet``); ``details.condorcet_winner``
  says which case happened.
* **copeland** — 1 point per pairwise win, ½ per pairwise tie; most points win.
* **minimax** — smallest worst defeat, ``max(0, max_b M[b, a])`` (Simpson–Kramer, margins).
* **schulze** — beat-path with margins: strongest path strengths over positive-margin edges;
  winners are beaten by nobody's stronger path.
* **ranked-pairs** — Tideman with margins and parallel-universe tie-breaking: lock positive
  margins from largest to smallest, skipping any that would close a cycle; when margins are
  equal every order of locking them is tried, and a candidate wins if it is unbeaten in the
  locked graph of some order (equal to ``pref_voting.ranked_pairs``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..profiles import Profile, RankedProfile
from ..registry import register
from ..results import TallyResult, iterated_ranking, ranking_from_scores

WinnersFn = Callable[[np.ndarray, list[int]], list[int]]


def condorcet_winners(margins: np.ndarray, idx: list[int]) -> list[int]:
    sub = margins[np.ix_(idx, idx)]
    n = len(idx)
    wins = (sub > 0).sum(axis=1)
    cw = [idx[i] for i in range(n) if wins[i] == n - 1]
    return cw if cw else list(idx)


def copeland_points(margins: np.ndarray, idx: list[int]) -> np.ndarray:
    """Doubled Copeland points: 2 per win, 1 per tie (integers, exact)."""
    sub = margins[np.ix_(idx, idx)]
    points: np.ndarray = 2 * (sub > 0).sum(axis=1) + (sub == 0).sum(axis=1) - 1
    return points


def minimax_defeat(margins: np.ndarray, idx: list[int]) -> np.ndarray:
    sub = margins[np.ix_(idx, idx)]
    if len(idx) < 2:
        return np.zeros(1, dtype=np.int64)
    out: np.ndarray = np.maximum(sub.max(axis=0), 0)
    return out


def _argbest(values: np.ndarray, idx: list[int], maximize: bool = True) -> list[int]:
    best = values.max() if maximize else values.min()
    return [idx[i] for i in range(len(idx)) if values[i] == best]


def schulze_strengths(margins: np.ndarray, idx: list[int]) -> np.ndarray:
    sub = margins[np.ix_(idx, idx)].astype(float)
    p = np.where(sub > 0, sub, -np.inf)
    for k in range(len(idx)):
        p = np.maximum(p, np.minimum(p[:, k : k + 1], p[k : k + 1, :]))
    return p


def schulze_winners(margins: np.ndarray, idx: list[int]) -> list[int]:
    p = schulze_strengths(margins, idx)
    beaten: np.ndarray = np.asarray((p.T > p).any(axis=1))
    return [idx[i] for i in range(len(idx)) if not beaten[i]]


def _lock(reach: tuple[int, ...], a: int, b: int) -> tuple[int, ...]:
    """Closure after locking a→b (b does not reach a): everyone reaching a (and a) now reaches b's set."""
    gain = (1 << b) | reach[b]
    return tuple(r | gain if (x == a or r >> a & 1) else r for x, r in enumerate(reach))


def ranked_pairs_winners(margins: np.ndarray, idx: list[int]) -> list[int]:
    cw = condorcet_winners(margins, idx)
    if len(cw) == 1 and len(idx) > 1:
        return cw
    sub = margins[np.ix_(idx, idx)]
    n = len(idx)
    strengths = sorted({int(v) for v in sub[sub > 0]}, reverse=True)
    groups = [frozenset((a, b) for a in range(n) for b in range(n) if sub[a, b] == s) for s in strengths]
    winners: set[int] = set()
    seen: set[tuple[int, tuple[int, ...], frozenset[tuple[int, int]]]] = set()

    def open_edges(reach: tuple[int, ...], edges: frozenset[tuple[int, int]]) -> frozenset[tuple[int, int]]:
        # An edge between already-ordered candidates is locked or skipped whatever the order: drop it.
        return frozenset(e for e in edges if not (reach[e[0]] >> e[1] & 1 or reach[e[1]] >> e[0] & 1))

    def lock_all(reach: tuple[int, ...], edges: frozenset[tuple[int, int]]) -> tuple[int, ...] | None:
        # If the whole group locks without closing a cycle in one order, it does so in every order.
        for a, b in sorted(edges):
            if reach[b] >> a & 1:
                return None
            reach = _lock(reach, a, b)
        return reach

    def explore(gi: int, reach: tuple[int, ...], remaining: frozenset[tuple[int, int]]) -> None:
        while True:
            remaining = open_edges(reach, remaining)
            if remaining:
                key = (gi, reach, remaining)
                if key in seen:
                    return
                seen.add(key)
                settled = lock_all(reach, remaining)
                if settled is None:
                    break
                reach, remaining = settled, frozenset()
            gi += 1
            if gi >= len(groups):
                beaten = 0
                for r in reach:
                    beaten |= r
                winners.update(i for i in range(n) if not beaten >> i & 1)
                return
            remaining = groups[gi]
        # A real conflict inside this tie group: try every edge as the next one locked.
        for edge in sorted(remaining):
            a, b = edge
            rest = remaining - {edge}
            explore(gi, reach if reach[b] >> a & 1 else _lock(reach, a, b), rest)

    if groups:
        explore(0, tuple([0] * n), groups[0])
    else:
        winners.update(range(n))
    return [idx[i] for i in sorted(winners)]


def _result(
    method: str, profile: RankedProfile, margins: np.ndarray, winners_of: WinnersFn, **extra: object
) -> TallyResult:
    cands = profile.candidates
    everyone = list(range(len(cands)))
    winners = winners_of(margins, everyone)
    ranking = iterated_ranking(cands, lambda idx: winners_of(margins, idx))
    return TallyResult(method, cands, tuple(cands[i] for i in winners), ranking, **extra)  # type: ignore[arg-type]


@register("condorcet", ("ranked",), "the Condorcet winner, else a tie of all")
def condorcet(profile: Profile) -> TallyResult:
    assert isinstance(profile, RankedProfile)
    margins = profile.margin_matrix()
    everyone = list(range(len(profile.candidates)))
    cw = condorcet_winners(margins, everyone)
    wins = (margins > 0).sum(axis=1)
    return _result(
        "condorcet",
        profile,
        margins,
        condorcet_winners,
        scores={c: float(v) for c, v in zip(profile.candidates, wins, strict=False)},
        details={"condorcet_winner": profile.candidates[cw[0]] if len(cw) == 1 else None},
    )


@register("copeland", ("ranked",), "most pairwise wins (ties count ½)")
def copeland(profile: Profile) -> TallyResult:
    assert isinstance(profile, RankedProfile)
    margins = profile.margin_matrix()
    cands = profile.candidates
    everyone = list(range(len(cands)))
    pts = copeland_points(margins, everyone)
    winners = _argbest(pts, everyone)
    return TallyResult(
        "copeland",
        cands,
        tuple(cands[i] for i in winners),
        ranking_from_scores(cands, pts),
        {c: float(v) / 2 for c, v in zip(cands, pts, strict=False)},
    )


@register("minimax", ("ranked",), "smallest worst pairwise defeat (margins)")
def minimax(profile: Profile) -> TallyResult:
    assert isinstance(profile, RankedProfile)
    margins = profile.margin_matrix()
    cands = profile.candidates
    everyone = list(range(len(cands)))
    defeat = minimax_defeat(margins, everyone)
    winners = _argbest(defeat, everyone, maximize=False)
    return TallyResult(
        "minimax",
        cands,
        tuple(cands[i] for i in winners),
        ranking_from_scores(cands, -defeat),
        {c: float(-v) for c, v in zip(cands, defeat, strict=False)},
    )


@register("schulze", ("ranked",), "beat-path (Schulze) with margins")
def schulze(profile: Profile) -> TallyResult:
    assert isinstance(profile, RankedProfile)
    margins = profile.margin_matrix()
    p = schulze_strengths(margins, list(range(len(profile.candidates))))
    beats = (p > p.T).sum(axis=1)
    return _result(
        "schulze",
        profile,
        margins,
        schulze_winners,
        scores={c: float(v) for c, v in zip(profile.candidates, beats, strict=False)},
    )


@register("ranked-pairs", ("ranked",), "Tideman ranked pairs with margins, parallel-universe ties")
def ranked_pairs(profile: Profile) -> TallyResult:
    assert isinstance(profile, RankedProfile)
    return _result("ranked-pairs", profile, profile.margin_matrix(), ranked_pairs_winners)
