"""Instant-runoff voting (IRV, alternative vote) with parallel-universe tie-breaking.

Each round, every ballot counts for its highest tier among the remaining candidates *that it
lists*; ``t`` candidates tied in that tier get ``1/t`` each (exact: integer multiples of the
lcm of tier sizes).  A ballot whose listed candidates are all eliminated is exhausted — unlike
the pairwise rules, an unlisted candidate never receives a ballot's vote.  The candidate with
the fewest votes is eliminated; if several tie for fewest, every choice is tried and a
candidate wins if it wins in some branch (``pref_voting.instant_runoff_put`` with
``score_method="split"``).  Shortcuts that do not change the winner set: a candidate with more
than half of the live ballots wins; candidates with zero votes are removed together (removing
them changes nobody's count).  ``ranking``: winners first, then the others by the round in which
the simultaneous-elimination count drops them (later = higher); ``scores`` are first-round votes.
"""

from __future__ import annotations

import numpy as np

from ..profiles import Profile, RankedProfile
from ..registry import register
from ..results import TallyResult
from .positional import top_tier_counts


class _Counter:
    """First-preference counts per set of remaining candidates, computed once per set."""

    def __init__(self, profile: RankedProfile) -> None:
        self.profile = profile
        self.cache: dict[frozenset[int], tuple[np.ndarray, int]] = {}

    def __call__(self, rem: frozenset[int]) -> tuple[np.ndarray, int]:
        hit = self.cache.get(rem)
        if hit is None:
            mask = np.zeros(len(self.profile.candidates), dtype=bool)
            mask[list(rem)] = True
            hit = self.cache[rem] = top_tier_counts(self.profile, mask)
        return hit


def irv_winners(profile: RankedProfile, remaining: frozenset[int], count: _Counter | None = None) -> set[int]:
    memo: dict[frozenset[int], set[int]] = {}
    count = count or _Counter(profile)

    def solve(rem: frozenset[int]) -> set[int]:
        if rem in memo:
            return memo[rem]
        if len(rem) == 1:
            return set(rem)
        counts, _ = count(rem)
        live = {c: int(counts[c]) for c in rem}
        total = sum(live.values())
        leader = max(live, key=lambda c: live[c])
        if 2 * live[leader] > total:
            out = {leader}
        elif total == 0:
            out = set(rem)
        else:
            zeros = {c for c, v in live.items() if v == 0}
            if zeros:
                out = solve(rem - zeros)
            else:
                low = min(live.values())
                out = set()
                for c in sorted(c for c, v in live.items() if v == low):
                    out |= solve(rem - {c})
        memo[rem] = out
        return out

    return solve(remaining)


@register("irv", ("ranked",), "instant-runoff, parallel-universe ties, split top ties")
def irv(profile: Profile) -> TallyResult:
    assert isinstance(profile, RankedProfile)
    cands = profile.candidates
    m = len(cands)
    count = _Counter(profile)
    winners = irv_winners(profile, frozenset(range(m)), count)
    # Simultaneous-elimination pass, only to order the non-winners and report rounds.
    remaining = set(range(m))
    rounds: list[dict[str, float]] = []
    out_round: dict[int, int] = {}
    first_counts, first_scale = top_tier_counts(profile)
    while len(remaining) > 1:
        counts, scale = count(frozenset(remaining))
        rounds.append({cands[c]: float(counts[c]) / scale for c in sorted(remaining)})
        low = min(int(counts[c]) for c in remaining)
        dropped = {c for c in remaining if int(counts[c]) == low}
        if dropped == remaining:
            break
        for c in dropped:
            out_round[c] = len(rounds)
        remaining -= dropped
    others = sorted((c for c in range(m) if c not in winners), key=lambda c: -out_round.get(c, len(rounds) + 1))
    tiers: list[list[str]] = [[cands[c] for c in sorted(winners)]]
    last = None
    for c in others:
        r = out_round.get(c, len(rounds) + 1)
        if len(tiers) > 1 and r == last:
            tiers[-1].append(cands[c])
        else:
            tiers.append([cands[c]])
            last = r
    return TallyResult(
        "irv",
        cands,
        tuple(cands[c] for c in sorted(winners)),
        tuple(tuple(t) for t in tiers),
        {c: float(first_counts[i]) / first_scale for i, c in enumerate(cands)},
        details={"rounds": rounds},
    )
