"""Approval, score and STAR voting.

* **approval** — most approvals wins; ties: all top candidates win.
* **score** — largest sum of scores wins; an unscored candidate counts as the lowest score of
  the declared range (so sum and mean order candidates the same way).
* **star** — Score Then Automatic Runoff: the two highest score sums go to a runoff decided by
  how many voters score one strictly above the other (unscored = lowest score).  Ties use
  parallel-universe tie-breaking exactly as ``pref_voting.star``: if several candidates share the
  top sum, every pair of them is a possible runoff; if one leads and several share second place,
  each of them is a possible opponent; a tied runoff elects both.  The winners are everyone who
  wins some possible runoff.  ``ranking`` puts the winners first, then the rest by score sum.
"""

from __future__ import annotations

from itertools import product

import numpy as np

from ..profiles import ApprovalProfile, Profile, ScoreProfile
from ..registry import register
from ..results import TallyResult, ranking_from_scores


def _top(cands: tuple[str, ...], values: np.ndarray) -> tuple[str, ...]:
    best = values.max()
    return tuple(c for c, v in zip(cands, values, strict=False) if v == best)


@register("approval", ("approval",), "most approvals")
def approval(profile: Profile) -> TallyResult:
    assert isinstance(profile, ApprovalProfile)
    counts = profile.weights @ profile.approved.astype(np.int64)
    cands = profile.candidates
    return TallyResult(
        "approval",
        cands,
        _top(cands, counts),
        ranking_from_scores(cands, counts),
        {c: float(v) for c, v in zip(cands, counts, strict=False)},
        details={"voters": profile.num_voters},
    )


def score_sums(profile: ScoreProfile) -> np.ndarray:
    return profile.weights @ profile.scores


@register("score", ("score",), "largest total score (unscored = lowest score)")
def score(profile: Profile) -> TallyResult:
    assert isinstance(profile, ScoreProfile)
    sums = score_sums(profile)
    cands = profile.candidates
    n = max(profile.num_voters, 1)
    return TallyResult(
        "score",
        cands,
        _top(cands, sums),
        ranking_from_scores(cands, sums),
        {c: float(v) for c, v in zip(cands, sums, strict=False)},
        details={"mean": {c: float(v) / n for c, v in zip(cands, sums, strict=False)}},
    )


@register("star", ("score",), "score then automatic runoff between the top two")
def star(profile: Profile) -> TallyResult:
    assert isinstance(profile, ScoreProfile)
    sums = score_sums(profile)
    cands = profile.candidates
    m = len(cands)
    if m == 1:
        return TallyResult("star", cands, cands, (cands,), {cands[0]: float(sums[0])})
    levels = sorted(set(sums.tolist()), reverse=True)
    first = [i for i in range(m) if sums[i] == levels[0]]
    if len(first) == 1:
        second = [i for i in range(m) if sums[i] == levels[1]]
        pairs = list(product(first, second))
    else:
        pairs = [(a, b) for a in first for b in first if a != b]
    s, w = profile.scores, profile.weights
    won: set[int] = set()
    runoffs = []
    for a, b in pairs:
        pa = int(w @ (s[:, a] > s[:, b]))
        pb = int(w @ (s[:, b] > s[:, a]))
        runoffs.append({"pair": [cands[a], cands[b]], "votes": [pa, pb]})
        if pa >= pb:
            won.add(a)
        if pb >= pa:
            won.add(b)
    winners = tuple(cands[i] for i in sorted(won))
    rest = [i for i in range(m) if i not in won]
    ranking = (winners,) + ranking_from_scores([cands[i] for i in rest], sums[rest]) if rest else (winners,)
    return TallyResult(
        "star",
        cands,
        winners,
        ranking,
        {c: float(v) for c, v in zip(cands, sums, strict=False)},
        details={"runoffs": runoffs},
    )
