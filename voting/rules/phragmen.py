"""Sequential rules on approval ballots: seq-Phragmén and the Method of Equal Shares (MES).

Both are computed exactly (``fractions.Fraction``) and irresolutely: whenever candidates tie,
every choice is followed, and every resulting committee is returned (parallel-universe
tie-breaking, as ``abcvoting`` with ``resolute=False``).  Voters are kept in groups of equal
load/budget, so the exact arithmetic touches a handful of groups, not every ballot.

* **seq-phragmen** — each step elects the candidate whose approvers, sharing a new unit of
  load, would reach the smallest maximal load ``(1 + Σ w·load) / Σ w``.  A candidate nobody
  approves gets the value ``k + 1`` (so it is only picked to fill seats, all such tied).
* **mes** — Method of Equal Shares with seq-Phragmén completion (abcvoting ``equal-shares``):
  every voter starts with budget ``k / n``; a candidate costs 1 and is affordable if its
  approvers can pay it with a per-voter price ``q`` (those with less than ``q`` pay all they
  have); the affordable candidate with the smallest ``q`` is bought.  When none is affordable,
  seq-Phragmén fills the remaining seats starting from loads equal to minus the budgets left.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..profiles import ApprovalProfile, Profile
from ..registry import register
from ..results import TallyResult
from .committees import MAX_COMMITTEES, slate_result

State = tuple[tuple[int, ...], np.ndarray, list[Fraction]]


def _level_weights(profile: ApprovalProfile, level: np.ndarray, n_levels: int) -> np.ndarray:
    """``out[l, c]`` = total weight of ballots at level ``l`` approving ``c`` (integers)."""
    out = np.zeros((n_levels, profile.approved.shape[1]), dtype=np.int64)
    a = profile.approved.astype(np.int64)
    for lv in range(n_levels):
        sel = level == lv
        if sel.any():
            out[lv] = profile.weights[sel] @ a[sel]
    return out


def _split(profile: ApprovalProfile, level: np.ndarray, values: list[Fraction], cand: int,
           new_value: dict[int, Fraction]) -> tuple[np.ndarray, list[Fraction]]:
    """Give the approvers of ``cand`` at level ``l`` the value ``new_value[l]``; compact levels."""
    approves = profile.approved[:, cand]
    offset = len(values)
    raw = np.where(approves, level + offset, level)
    table = values + [new_value.get(lv, values[lv]) for lv in range(offset)]
    used, compact = np.unique(raw, return_inverse=True)
    return compact.ravel().astype(np.int64), [table[int(x)] for x in used]


def seq_phragmen_committees(
    profile: ApprovalProfile,
    seats: int,
    start: list[State] | None = None,
    limit: int = MAX_COMMITTEES,
) -> set[tuple[int, ...]]:
    m = len(profile.candidates)
    u = profile.approved.shape[0]
    approvers = profile.weights @ profile.approved.astype(np.int64)
    stack: list[State] = start or [((), np.zeros(u, dtype=np.int64), [Fraction(0)])]
    found: set[tuple[int, ...]] = set()
    seen: set[tuple[frozenset[int], bytes, tuple[Fraction, ...]]] = set()
    while stack and len(found) < limit:
        committee, level, values = stack.pop()
        if len(committee) == seats:
            found.add(tuple(sorted(committee)))
            continue
        key = (frozenset(committee), level.tobytes(), tuple(values))
        if key in seen:
            continue
        seen.add(key)
        lw = _level_weights(profile, level, len(values))
        new_load: dict[int, Fraction] = {}
        for c in range(m):
            if c in committee:
                continue
            if approvers[c] > 0:
                spent = sum((values[lv] * int(lw[lv, c]) for lv in range(len(values)) if lw[lv, c]), Fraction(0))
                new_load[c] = (spent + 1) / int(approvers[c])
            else:
                new_load[c] = Fraction(seats + 1)
        opt = min(new_load.values())
        for c in sorted((c for c, v in new_load.items() if v == opt), reverse=True):
            if approvers[c] > 0:
                lvls = {int(lv) for lv in np.unique(level[profile.approved[:, c]])}
                nl, nv = _split(profile, level, values, c, dict.fromkeys(lvls, opt))
            else:
                nl, nv = level, values
            stack.append((committee + (c,), nl, nv))
    return found


def _min_price(groups: list[tuple[Fraction, int]]) -> Fraction | None:
    """Smallest q with Σ W·min(b, q) = 1 over groups (b, W); None if the budget is too small."""
    groups = sorted(groups)
    paid_by_poor = Fraction(0)
    rich_weight = sum(w for _, w in groups)
    for b, w in groups:
        q = (1 - paid_by_poor) / rich_weight
        if q <= b:
            return q
        paid_by_poor += b * w
        rich_weight -= w
    return None


def mes_committees(profile: ApprovalProfile, seats: int, limit: int = MAX_COMMITTEES) -> set[tuple[int, ...]]:
    m = len(profile.candidates)
    u = profile.approved.shape[0]
    total = int(profile.weights.sum())
    stack: list[State] = [((), np.zeros(u, dtype=np.int64), [Fraction(seats, total)])]
    found: set[tuple[int, ...]] = set()
    seen: set[tuple[frozenset[int], bytes, tuple[Fraction, ...]]] = set()
    while stack and len(found) < limit:
        committee, level, values = stack.pop()
        if len(committee) == seats:
            found.add(tuple(sorted(committee)))
            continue
        key = (frozenset(committee), level.tobytes(), tuple(values))
        if key in seen:
            continue
        seen.add(key)
        lw = _level_weights(profile, level, len(values))
        prices: dict[int, Fraction] = {}
        for c in range(m):
            if c in committee:
                continue
            groups = [(values[lv], int(lw[lv, c])) for lv in range(len(values)) if lw[lv, c] > 0]
            if groups:
                q = _min_price(groups)
                if q is not None:
                    prices[c] = q
        if not prices:
            loads = [-v for v in values]
            found |= seq_phragmen_committees(profile, seats, [(committee, level, loads)], limit - len(found))
            continue
        best = min(prices.values())
        for c in sorted((c for c, q in prices.items() if q == best), reverse=True):
            lvls = {int(lv) for lv in np.unique(level[profile.approved[:, c]])}
            nl, nv = _split(profile, level, values, c, {lv: max(values[lv] - best, Fraction(0)) for lv in lvls})
            stack.append((committee + (c,), nl, nv))
    return found


@register("seq-phragmen", ("approval",), "sequential Phragmén (exact, all tied committees)", slate=True)
def seq_phragmen(profile: Profile, seats: int, max_committees: int = MAX_COMMITTEES) -> TallyResult:
    assert isinstance(profile, ApprovalProfile)
    found = seq_phragmen_committees(profile, seats, limit=max_committees)
    # The search stops at the limit, so the full number of tied committees is then unknown.
    return slate_result("seq-phragmen", profile, sorted(found), truncated=len(found) >= max_committees)


@register("mes", ("approval",), "method of equal shares + seq-Phragmén completion", slate=True)
def mes(profile: Profile, seats: int, max_committees: int = MAX_COMMITTEES) -> TallyResult:
    assert isinstance(profile, ApprovalProfile)
    found = mes_committees(profile, seats, limit=max_committees)
    return slate_result("mes", profile, sorted(found), truncated=len(found) >= max_committees)
