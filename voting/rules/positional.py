"""Plurality and Borda on ranked ballots (plurality also counts yes/no/abstain ballots).

Truncated ballots and ties inside a ballot:

* **plurality** — a ranked ballot counts for its top tier; if ``t`` candidates share the top
  tier each gets ``1/t`` (counted exactly, in integer multiples of the lcm of the tier sizes).
  On yes/no/abstain ballots the winner is the larger of yes and no; abstentions are reported
  in ``scores`` and ``details`` but never win.
* **borda** — averaged Borda on weak orders: a candidate gets 1 point per candidate ranked
  strictly below it and ½ per candidate tied with it; unlisted candidates are tied below every
  listed one.  This equals ``(Σ_d margin(c, d) + (m-1)·n) / 2``, an affine image of
  ``pref_voting``'s symmetric Borda with extended strict preference (same winners).

Ties in the final scores: every candidate with the top score wins.
"""

from __future__ import annotations

from math import lcm

import numpy as np

from ..profiles import ChoiceProfile, Profile, RankedProfile
from ..registry import register
from ..results import TallyResult, ranking_from_scores


def top_tier_counts(profile: RankedProfile, remaining: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Integer counts (scaled by the returned lcm) of the top tier among ``remaining`` listed candidates.

    A ballot with none of the remaining candidates listed is exhausted and counts for nobody.
    """
    m = len(profile.candidates)
    strict = profile.strict_order
    if strict is not None:
        # No ties inside ballots: the top remaining listed candidate is the first one in ballot order.
        order, listed_in_order = strict
        alive = listed_in_order if remaining is None else listed_in_order & remaining[order]
        first = alive.argmax(axis=1)
        rows = np.arange(order.shape[0])
        live = alive[rows, first]
        tops = order[rows, first][live]
        counts = np.bincount(tops, weights=profile.weights[live], minlength=m)
        return np.rint(counts).astype(np.int64), 1
    mask = profile.listed if remaining is None else profile.listed & remaining[None, :]
    big = np.iinfo(np.int16).max
    masked = np.where(mask, profile.ranks, big)
    best = masked.min(axis=1)
    top = (masked == best[:, None]) & (best[:, None] < big)
    sizes = top.sum(axis=1)
    live = sizes > 0
    distinct = [int(s) for s in np.unique(sizes[live])] or [1]
    scale = lcm(*distinct)
    share = np.zeros(sizes.shape, dtype=np.int64)
    share[live] = profile.weights[live] * (scale // sizes[live])
    counts = share @ top.astype(np.int64) if m else np.zeros(0, dtype=np.int64)
    return counts, scale


@register("plurality", ("ranked", "choice"), "most first places (ties at the top split equally)")
def plurality(profile: Profile) -> TallyResult:
    if isinstance(profile, ChoiceProfile):
        yes, no = profile.counts["yes"], profile.counts["no"]
        winners: tuple[str, ...] = ("yes",) if yes > no else ("no",) if no > yes else ("yes", "no")
        ranking = (("yes",), ("no",)) if yes > no else (("no",), ("yes",)) if no > yes else (("yes", "no"),)
        return TallyResult(
            "plurality",
            profile.candidates,
            winners,
            ranking,
            {k: float(v) for k, v in profile.counts.items()},
            details={"abstain": profile.counts["abstain"], "voters": profile.num_voters},
        )
    assert isinstance(profile, RankedProfile)
    counts, scale = top_tier_counts(profile)
    best = counts.max()
    cands = profile.candidates
    winners = tuple(c for c, v in zip(cands, counts, strict=False) if v == best)
    scores = {c: float(v) / scale for c, v in zip(cands, counts, strict=False)}
    return TallyResult("plurality", cands, winners, ranking_from_scores(cands, counts), scores)


@register("borda", ("ranked",), "averaged Borda count on weak orders")
def borda(profile: Profile) -> TallyResult:
    assert isinstance(profile, RankedProfile)
    m = len(profile.candidates)
    doubled = profile.margin_matrix().sum(axis=1) + (m - 1) * profile.num_voters
    best = doubled.max()
    cands = profile.candidates
    winners = tuple(c for c, v in zip(cands, doubled, strict=False) if v == best)
    scores = {c: float(v) / 2 for c, v in zip(cands, doubled, strict=False)}
    return TallyResult("borda", cands, winners, ranking_from_scores(cands, doubled), scores)
