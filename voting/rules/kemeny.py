"""Kemeny–Young, exact.

A Kemeny ranking is a linear order maximising the sum of margins ``M[a, b]`` over the pairs it
puts ``a`` above ``b`` (equivalently, minimising the total Kendall-tau distance to the ballots,
with ties and truncation read as in :mod:`voting.rules.pairwise`).  The winners are every
candidate ranked first by *some* Kemeny ranking (as ``pref_voting.kemeny_young``).

Exact dynamic programming over subsets: O(2^m · m) time and memory, so the rule refuses more
than :data:`MAX_CANDIDATES` candidates with :class:`~voting.errors.TooLargeError`.
"""

from __future__ import annotations

import numpy as np

from ..errors import TooLargeError
from ..profiles import Profile, RankedProfile
from ..registry import register
from ..results import TallyResult, iterated_ranking

MAX_CANDIDATES = 16


def kemeny_best(margins: np.ndarray, idx: list[int]) -> tuple[list[int], int, list[int] | None]:
    """Return (winners, optimal score, the optimal ranking if it is unique else None)."""
    n = len(idx)
    if n > MAX_CANDIDATES:
        raise TooLargeError(
            f"kemeny is exact and refuses more than {MAX_CANDIDATES} candidates (got {n})",
            limit=MAX_CANDIDATES,
        )
    sub = margins[np.ix_(idx, idx)].astype(np.int64)
    size = 1 << n
    # placed[S, c] = sum of M[c, d] over d in S
    placed = np.zeros((size, n), dtype=np.int64)
    for b in range(n):
        placed[1 << b : 1 << (b + 1)] = placed[: 1 << b] + sub[:, b]
    total = sub.sum(axis=1)
    popcount = np.zeros(size, dtype=np.int64)
    for b in range(n):
        popcount[1 << b : 1 << (b + 1)] = popcount[: 1 << b] + 1
    masks = np.arange(size)
    best = np.zeros(size, dtype=np.int64)  # best[S] = best completion once S is placed on top
    neg = np.iinfo(np.int64).min // 4
    for k in range(n - 1, -1, -1):
        layer = masks[popcount == k]
        values = np.full((layer.size, n), neg, dtype=np.int64)
        for c in range(n):
            free = (layer >> c) & 1 == 0
            s = layer[free]
            # placing c next puts it above everything not yet placed (except itself)
            values[free, c] = total[c] - placed[s, c] + best[s | (1 << c)]
        best[layer] = values.max(axis=1)
    opt = int(best[0])

    def firsts(s: int) -> list[int]:
        return [
            c
            for c in range(n)
            if not (s >> c) & 1 and int(total[c] - placed[s, c] + best[s | (1 << c)]) == int(best[s])
        ]

    winners = firsts(0)
    order: list[int] | None = []
    s = 0
    while s != size - 1 and order is not None:
        nxt = firsts(s)
        if len(nxt) != 1:
            order = None
            break
        order.append(nxt[0])
        s |= 1 << nxt[0]
    return [idx[i] for i in winners], opt, ([idx[i] for i in order] if order is not None else None)


@register("kemeny", ("ranked",), "Kemeny–Young, exact (refuses above 16 candidates)")
def kemeny(profile: Profile) -> TallyResult:
    assert isinstance(profile, RankedProfile)
    cands = profile.candidates
    margins = profile.margin_matrix()
    winners, opt, unique = kemeny_best(margins, list(range(len(cands))))
    ranking: tuple[tuple[str, ...], ...]
    if unique is not None:
        ranking = tuple((cands[i],) for i in unique)
    else:
        ranking = iterated_ranking(cands, lambda idx: kemeny_best(margins, idx)[0])
    return TallyResult(
        "kemeny",
        cands,
        tuple(cands[i] for i in winners),
        ranking,
        details={"kemeny_score": opt, "unique_ranking": unique is not None},
    )
