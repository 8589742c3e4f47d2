"""Optimisation slate rules on approval ballots: AV, PAV and Chamberlin–Courant (exact).

All three return *every* winning committee (irresolute), so a tie between slates is visible.

* **av** — the ``k`` candidates with most approvals; candidates tied at the cut-off give one
  committee per way of filling the remaining seats (as ``abcvoting``'s ``av``).
* **pav** — maximise Σ_voters (1 + 1/2 + … + 1/j) where ``j`` = approved members; exact integer
  arithmetic (harmonic numbers scaled by lcm(1..k)).
* **cc** — maximise the number of voters with at least one approved member.

PAV and CC are NP-hard; this is exact brute force over all C(m, k) committees, vectorised over
the *distinct* ballots, and refuses instances with more than :data:`MAX_WORK` committee×ballot
evaluations with :class:`~voting.errors.TooLargeError`.  At most ``max_committees`` tied
committees are listed (``details.committees_total`` gives the full count and
``details.committees_truncated`` says whether the list was cut).
"""

from __future__ import annotations

from itertools import combinations, islice
from math import comb, lcm

import numpy as np

from ..errors import TooLargeError
from ..profiles import ApprovalProfile, Profile
from ..registry import register
from ..results import TallyResult, ranking_from_scores

MAX_WORK = 5_000_000_000
MAX_COMMITTEES = 10_000


def slate_result(
    method: str,
    profile: ApprovalProfile,
    committees: list[tuple[int, ...]],
    total: int | None = None,
    truncated: bool | None = None,
    **details: object,
) -> TallyResult:
    cands = profile.candidates
    counts = profile.weights @ profile.approved.astype(np.int64)
    named = sorted({tuple(sorted(cands[i] for i in c)) for c in committees})
    members = sorted({c for com in named for c in com}, key=cands.index)
    in_all = [c for c in members if all(c in com for com in named)]
    some = [c for c in members if c not in in_all]
    rest = [i for i, c in enumerate(cands) if c not in members]
    ranking: tuple[tuple[str, ...], ...] = tuple(t for t in (tuple(in_all), tuple(some)) if t)
    if rest:
        ranking += ranking_from_scores([cands[i] for i in rest], counts[rest])
    return TallyResult(
        method,
        cands,
        tuple(members),
        ranking,
        {c: float(v) for c, v in zip(cands, counts, strict=False)},
        committees=tuple(named),
        details={
            "committees_total": total if total is not None else len(named),
            "committees_truncated": bool(truncated) if truncated is not None else (total or 0) > len(named),
            **details,
        },
    )


@register("av", ("approval",), "approval voting for a slate of k", slate=True)
def av(profile: Profile, seats: int, max_committees: int = MAX_COMMITTEES) -> TallyResult:
    assert isinstance(profile, ApprovalProfile)
    counts = profile.weights @ profile.approved.astype(np.int64)
    cutoff = np.sort(counts)[-seats]
    certain = [i for i in range(counts.size) if counts[i] > cutoff]
    possible = [i for i in range(counts.size) if counts[i] == cutoff]
    missing = seats - len(certain)
    total = comb(len(possible), missing)
    committees = [tuple(certain) + extra for extra in islice(combinations(possible, missing), max_committees)]
    return slate_result("av", profile, committees, total)


def _brute_force(profile: ApprovalProfile, seats: int, value: np.ndarray) -> tuple[list[tuple[int, ...]], int, int]:
    """Best committees under Σ_u w_u·value[|A_u ∩ W|]; returns (committees, best, count)."""
    m = len(profile.candidates)
    n_comm = comb(m, seats)
    u = profile.approved.shape[0]
    if n_comm * max(u, 1) > MAX_WORK:
        raise TooLargeError(
            f"exact search over {n_comm} committees × {u} distinct ballots exceeds the limit {MAX_WORK}",
            limit=MAX_WORK,
        )
    a = profile.approved.astype(np.uint8)
    w = profile.weights
    chunk = max(1, min(n_comm, 4_000_000 // max(u, 1)))
    best = None
    winners: list[tuple[int, ...]] = []
    it = combinations(range(m), seats)
    while True:
        block = list(islice(it, chunk))
        if not block:
            break
        idx = np.asarray(block, dtype=np.int64)
        # approved members per (ballot, committee): a sum of k gathered columns (small ints, no BLAS)
        hits = a[:, idx[:, 0]].copy()
        for j in range(1, seats):
            hits += a[:, idx[:, j]]
        scores = w @ value[hits]
        top = scores.max()
        if best is None or top > best:
            best, winners = int(top), []
        if top == best:
            winners.extend(block[i] for i in np.flatnonzero(scores == top))
    return winners, int(best or 0), len(winners)


@register("pav", ("approval",), "proportional approval voting (exact)", slate=True)
def pav(profile: Profile, seats: int, max_committees: int = MAX_COMMITTEES) -> TallyResult:
    assert isinstance(profile, ApprovalProfile)
    scale = lcm(*range(1, seats + 1))
    harmonic = np.array([sum(scale // i for i in range(1, j + 1)) for j in range(seats + 1)], dtype=np.int64)
    winners, best, total = _brute_force(profile, seats, harmonic)
    return slate_result("pav", profile, winners[:max_committees], total, pav_score=best / scale)


@register("cc", ("approval",), "Chamberlin–Courant (exact)", slate=True)
def cc(profile: Profile, seats: int, max_committees: int = MAX_COMMITTEES) -> TallyResult:
    assert isinstance(profile, ApprovalProfile)
    covered = np.array([0] + [1] * seats, dtype=np.int64)
    winners, best, total = _brute_force(profile, seats, covered)
    return slate_result("cc", profile, winners[:max_committees], total, voters_covered=best)
