"""Exact LEXIMIN by brute force for tiny pools: enumerate every feasible panel, then fix levels
one by one, testing each person directly (no reliance on dual values)."""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linprog

from sortition import Pool, panel_meets_quotas


def feasible_panels(pool: Pool, size: int) -> list[tuple[str, ...]]:
    return [p for p in itertools.combinations(pool.ids, size) if not panel_meets_quotas(pool, p, size)]


def _max_level(a: np.ndarray, lower: np.ndarray, free: np.ndarray, target: int | None) -> float:
    """max z (or max p_target) s.t. p_i >= lower_i (fixed), p_i >= z (free), sum x = 1."""
    n, k = a.shape
    cost = np.zeros(k + 1)
    if target is None:
        cost[-1] = -1.0
    else:
        cost[:k] = -a[target]
    a_ub = np.hstack([-a, free[:, None].astype(float)])
    b_ub = np.where(free, 0.0, -lower)
    if target is not None:
        a_ub[:, -1] = 0.0
        b_ub = -lower
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=np.append(np.ones(k), 0)[None, :], b_eq=[1], bounds=(0, None), method="highs")
    assert res.status == 0, res.message
    return float(-res.fun)


def exact_leximin(pool: Pool, size: int) -> dict[str, float]:
    panels = feasible_panels(pool, size)
    ids = pool.ids
    a = np.array([[1.0 if pid in p else 0.0 for p in panels] for pid in ids])
    lower = np.zeros(len(ids))
    fixed = np.zeros(len(ids), dtype=bool)
    never = a.sum(axis=1) == 0
    fixed |= never
    while not fixed.all():
        z = _max_level(a, lower, ~fixed, None)
        lower_now = np.where(fixed, lower, z)
        progressed = False
        for i in np.flatnonzero(~fixed):
            if _max_level(a, lower_now, np.zeros(len(ids), dtype=bool), int(i)) <= z + 1e-9:
                fixed[i] = True
                lower[i] = z
                progressed = True
        if not progressed:  # pragma: no cover - a LEXIMIN stage always pins someone
            raise AssertionError("no progress")
    return dict(zip(ids, lower, strict=True))
