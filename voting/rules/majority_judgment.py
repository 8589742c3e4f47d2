"""Majority judgment (Balinski & Laraki) on grade ballots, or on score ballots read as grades.

Rule: every voter grades every candidate; an ungraded candidate gets the worst grade of the scale
(``reject``), an unscored one the lowest score.  Candidates are ordered by their *lower* median
grade.  Ties between equal medians are broken with ``tiebreak``:

* ``"majority-value"`` (default) — the full majority-value order: compare the lower medians, then
  the lower medians after removing one median grade from each, and so on.  Candidates whose grade
  distributions are identical stay tied.
* ``"gauge"`` — Balinski–Laraki's majority gauge, which is what ``pref_voting.majority_judgement``
  uses: with ``p`` / ``q`` the shares strictly above / below the median, a candidate with
  ``p > q`` ranks by ``p`` (higher is better) above every candidate with ``p ≤ q``, who rank by
  ``q`` (lower is better).  The majority-value order refines the gauge: its winners are always a
  subset of the gauge winners.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cmp_to_key

import numpy as np

from ..errors import MethodInputError
from ..profiles import GradeProfile, Profile, ScoreProfile
from ..registry import register
from ..results import TallyResult


def grade_counts(profile: GradeProfile | ScoreProfile) -> tuple[np.ndarray, tuple[str, ...]]:
    """``counts[c, g]`` = voters giving candidate ``c`` grade ``g`` (0 = worst), and the grade names."""
    if isinstance(profile, ScoreProfile):
        grades = profile.scores - profile.low if profile.low else profile.scores
        names = tuple(str(v) for v in range(profile.low, profile.high + 1))
    else:
        grades = profile.grades
        names = profile.scale
    k = len(names)
    m = grades.shape[1]
    w = profile.weights
    unit = bool((w == 1).all())
    wf = w.astype(np.float64)
    counts = np.zeros((m, k), dtype=np.int64)
    # One bincount per candidate (column by column: no large temporaries); float64 sums of
    # integer weights are exact below 2**53 voters.
    for c in range(m):
        column = grades[:, c]
        if unit:
            counts[c] = np.bincount(column, minlength=k)[:k]
        else:
            counts[c] = np.rint(np.bincount(column, weights=wf, minlength=k)[:k]).astype(np.int64)
    return counts, names


def lower_median(counts: list[int]) -> int:
    n = sum(counts)
    idx = (n - 1) // 2
    acc = 0
    for g, c in enumerate(counts):
        acc += c
        if acc > idx:
            return g
    return len(counts) - 1


def _still_median(n: int, below: int, here: int, r: int) -> bool:
    mid = (n - r - 1) // 2
    return below <= mid < below + here - r


def _runs(counts: list[int]) -> Iterator[tuple[int, int]]:
    """The majority-value sequence as runs ``(grade, length)``."""
    c = list(counts)
    n = sum(c)
    while n > 0:
        g = lower_median(c)
        below = sum(c[:g])
        here = c[g]

        lo, hi = 0, here - 1
        while lo < hi:  # largest r with the median still at g after r removals; r = 0 holds
            mid_r = (lo + hi + 1) // 2
            if _still_median(n, below, here, mid_r):
                lo = mid_r
            else:
                hi = mid_r - 1
        length = lo + 1
        yield g, length
        c[g] -= length
        n -= length


def compare_majority_value(a: list[int], b: list[int]) -> int:
    """-1 if ``a`` ranks above ``b`` in the majority-value order, 1 if below, 0 if tied."""
    if a == b:
        return 0
    ra, rb = _runs(a), _runs(b)
    ga, la = next(ra, (-1, 0))
    gb, lb = next(rb, (-1, 0))
    while la and lb:
        if ga != gb:
            return -1 if ga > gb else 1
        step = min(la, lb)
        la -= step
        lb -= step
        if not la:
            ga, la = next(ra, (-1, 0))
        if not lb:
            gb, lb = next(rb, (-1, 0))
    return 0


def gauge_key(counts: list[int]) -> tuple[int, int, int]:
    """Sort key (bigger = better) of the majority gauge: (median, side, strength)."""
    g = lower_median(counts)
    p = sum(counts[g + 1 :])
    q = sum(counts[:g])
    return (g, 1, p) if p > q else (g, 0, -q)


@register("majority-judgment", ("grades", "score"), "highest median grade, ties by majority value")
def majority_judgment(profile: Profile, tiebreak: str = "majority-value") -> TallyResult:
    assert isinstance(profile, (GradeProfile, ScoreProfile))
    counts_arr, names = grade_counts(profile)
    cands = profile.candidates
    counts = [[int(x) for x in row] for row in counts_arr]
    if tiebreak == "gauge":

        def cmp(i: int, j: int) -> int:
            ki, kj = gauge_key(counts[i]), gauge_key(counts[j])
            return -1 if ki > kj else 1 if ki < kj else 0

    elif tiebreak == "majority-value":

        def cmp(i: int, j: int) -> int:
            return compare_majority_value(counts[i], counts[j])

    else:
        raise MethodInputError("tiebreak must be 'majority-value' or 'gauge'", field="tiebreak")
    order = sorted(range(len(cands)), key=cmp_to_key(cmp))
    tiers: list[list[int]] = []
    for i in order:
        if tiers and cmp(tiers[-1][0], i) == 0:
            tiers[-1].append(i)
        else:
            tiers.append([i])
    ranking = tuple(tuple(cands[i] for i in t) for t in tiers)
    medians = {c: lower_median(counts[i]) for i, c in enumerate(cands)}
    return TallyResult(
        "majority-judgment",
        cands,
        ranking[0],
        ranking,
        {c: float(g) for c, g in medians.items()},
        details={
            "median_grade": {c: names[g] for c, g in medians.items()},
            "grade_counts": {c: counts[i] for i, c in enumerate(cands)},
            "grades": list(names),
            "tiebreak": tiebreak,
        },
    )
