"""Why quotas cannot be met: simple counting reasons, a minimal clashing set, the smallest relaxation.

The clashing set comes from a deletion filter: starting from all quota bounds, drop each bound in
turn and keep it only if the rest becomes feasible without it. What remains is an irreducible
infeasible set (every bound in it is needed for the clash). Feasibility is decided exactly by MILP
over types, so clashes that only integrality or households cause are found too.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from sortition.algorithms.common import TypeModel, build_type_model
from sortition.errors import Diagnosis, QuotaBound, Relaxation
from sortition.types import Pool, Quota

TIME_LIMIT = 20.0


def _feasible(model: TypeModel, lo: np.ndarray, hi: np.ndarray) -> bool:
    cons = [LinearConstraint(np.ones((1, model.num_types)), model.size, model.size)]
    if len(lo):
        cons.append(LinearConstraint(model.quota_matrix, lo, hi))
    if model.household_matrix is not None and model.household_matrix.shape[0]:
        cons.append(LinearConstraint(model.household_matrix, -np.inf, 1))
    res = milp(
        np.zeros(model.num_types),
        constraints=cons,
        integrality=np.ones(model.num_types),
        bounds=Bounds(np.zeros(model.num_types), model.counts.astype(float)),
        options={"time_limit": TIME_LIMIT},
    )
    return bool(res.status == 0)


def _counting_reasons(model: TypeModel, quotas: list[Quota], pool: Pool) -> list[str]:
    reasons = []
    available = np.asarray(model.quota_matrix @ model.counts).ravel()
    for q, have in zip(quotas, available, strict=True):
        if q.min > have:
            reasons.append(f"{q.feature}={q.value} needs at least {q.min} but only {int(have)} volunteers have it")
    for f in pool.categories.features:
        fq = [q for q in quotas if q.feature == f]
        if sum(q.min for q in fq) > model.size:
            reasons.append(f"the minimums of {f} add up to {sum(q.min for q in fq)}, more than the panel size {model.size}")
        if sum(q.max for q in fq) < model.size:
            reasons.append(f"the maximums of {f} add up to {sum(q.max for q in fq)}, less than the panel size {model.size}")
    if model.household_matrix is not None:
        households = model.household_matrix.shape[0] + int(model.counts[model.household_of < 0].sum())
        if households < model.size:
            reasons.append(f"only {households} households for {model.size} seats (one person per household)")
    return reasons


def diagnose(pool: Pool, size: int, quotas: list[Quota] | None = None) -> Diagnosis:
    """Explain infeasible quotas (call only when no panel exists).

    Returns:
        A :class:`Diagnosis` with counting reasons, an irreducible clashing set of quota bounds, and
        the smallest total change of minimums (down) and maximums (up) that makes a panel possible
        (``relaxation_cost`` None if no quota change suffices, e.g. too few households).
    """
    quotas = quotas if quotas is not None else pool.categories.quota_list()
    model = build_type_model(pool, size, quotas)
    reasons = _counting_reasons(model, quotas, pool)
    rows = len(quotas)
    available = np.asarray(model.quota_matrix @ model.counts).ravel()
    lo = model.lo.copy()
    hi = model.hi.copy()
    free_lo = np.zeros(rows)
    free_hi = np.full(rows, np.inf)
    # candidate bounds: only those that restrict anything
    active = [(r, "min") for r in range(rows) if lo[r] > 0] + [
        (r, "max") for r in range(rows) if hi[r] < min(available[r], size)
    ]
    clashing: list[tuple[int, str]] = []
    if not _feasible(model, free_lo, free_hi):
        reasons.append("no panel is possible even without quotas (pool or households too small)")
    else:
        keep = list(active)
        for bound in list(active):
            trial = [b for b in keep if b != bound]
            tlo, thi = free_lo.copy(), free_hi.copy()
            for r, side in trial:
                if side == "min":
                    tlo[r] = lo[r]
                else:
                    thi[r] = hi[r]
            if not _feasible(model, tlo, thi):
                keep = trial
        clashing = keep
    relaxation, cost = _smallest_relaxation(model, quotas)
    return Diagnosis(
        clashing=tuple(
            QuotaBound(quotas[r].feature, quotas[r].value, side, quotas[r].min if side == "min" else quotas[r].max)
            for r, side in clashing
        ),
        relaxation=relaxation,
        relaxation_cost=cost,
        reasons=tuple(reasons),
    )


def _smallest_relaxation(model: TypeModel, quotas: list[Quota]) -> tuple[tuple[Relaxation, ...], int | None]:
    """MILP: minimise Σ(min decreases) + Σ(max increases) such that some panel meets the new quotas."""
    t, r = model.num_types, len(quotas)
    # variables: c (t), dmin (r), dmax (r)
    q = model.quota_matrix.toarray()
    eye = np.eye(r)
    cons = [
        LinearConstraint(np.hstack([np.ones((1, t)), np.zeros((1, 2 * r))]), model.size, model.size),
        LinearConstraint(np.hstack([q, eye, np.zeros((r, r))]), model.lo, np.inf),
        LinearConstraint(np.hstack([q, np.zeros((r, r)), -eye]), -np.inf, model.hi),
    ]
    if model.household_matrix is not None and model.household_matrix.shape[0]:
        h = model.household_matrix.toarray()
        cons.append(LinearConstraint(np.hstack([h, np.zeros((h.shape[0], 2 * r))]), -np.inf, 1))
    cost = np.concatenate([np.zeros(t), np.ones(2 * r)])
    res = milp(
        cost,
        constraints=cons,
        integrality=np.ones(t + 2 * r),
        bounds=Bounds(np.zeros(t + 2 * r), np.concatenate([model.counts, model.lo, np.full(r, model.size)])),
        options={"time_limit": TIME_LIMIT},
    )
    if res.x is None:
        return (), None
    dmin = np.rint(res.x[t : t + r]).astype(int)
    dmax = np.rint(res.x[t + r :]).astype(int)
    changes = tuple(
        Relaxation(qu.feature, qu.value, qu.min, qu.max, qu.min - int(a), qu.max + int(b))
        for qu, a, b in zip(quotas, dmin, dmax, strict=True)
        if a or b
    )
    return changes, int(dmin.sum() + dmax.sum())
