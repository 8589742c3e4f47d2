"""LEXIMIN (Flanigan, Gölz, Gupta, Hennig, Procaccia, Nature 2021) over types, solved with HiGHS.

Stage after stage, maximise the lowest selection probability among the types not yet fixed, keeping
every fixed type at (at least) its fixed level. Each stage is a linear program over a growing set of
panels (column generation): the LP's duals weigh the types, and a MILP finds the panel with the
largest dual weight; if that panel beats the LP's bound it is added, otherwise the stage is optimal
and every type with a positive dual must sit exactly at the stage's optimum in every optimal
solution, so it is fixed there. Working on types (not people) keeps the LPs and MILPs small.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from sortition.algorithms.common import (
    EPS,
    PanelSet,
    TypeModel,
    best_panel,
    improve_by_swaps,
)
from sortition.algorithms.relaxation import sample_panel, warm_start
from sortition.errors import SelectionError

DUAL_FIX = 1e-6  # a dual weight above this marks a type as tight at the optimum
MAX_ROUNDS = 100_000
HEURISTIC_STARTS = 16
LP_METHOD = "highs-ipm"
WARM_SAMPLES = 400
PRUNE_MIN = 200
PRUNE_FACTOR = 2


@dataclass
class StageSolution:
    z: float
    x: np.ndarray
    duals: np.ndarray  # per type (zero for types outside the LP)
    cap: float


def solve_stage(
    panels: PanelSet, active: np.ndarray, fixed: np.ndarray, fixed_mask: np.ndarray
) -> StageSolution:
    """Restricted primal: max z s.t. p_t >= z (active, unfixed), p_t >= fixed_t (fixed), sum x = 1."""
    m = panels.matrix()
    num_panels = m.shape[1]
    free_idx = np.flatnonzero(active & ~fixed_mask)
    fix_idx = np.flatnonzero(active & fixed_mask)
    rows = np.concatenate([free_idx, fix_idx])
    a_ub = sparse.hstack(
        [-m[rows, :], sparse.csc_matrix(np.concatenate([np.ones(len(free_idx)), np.zeros(len(fix_idx))])[:, None])],
        format="csc",
    )
    targets = fixed[fix_idx].copy()
    a_eq = sparse.csc_matrix(np.concatenate([np.ones(num_panels), [0.0]])[None, :])
    cost = np.zeros(num_panels + 1)
    cost[-1] = -1.0
    for attempt in range(8):
        b_ub = np.concatenate([np.zeros(len(free_idx)), -targets])
        res = linprog(
            cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[1.0], bounds=(0, None), method=LP_METHOD
        )
        if res.status == 0:
            break
        # Fixed levels come from earlier LPs; rounding can make them a hair too high to reach again.
        targets = np.maximum(targets - 10.0 ** (attempt - 9), 0.0)
    else:
        raise SelectionError(f"the LEXIMIN linear program failed: {res.message}", code="solver_failed")
    fixed[fix_idx] = np.minimum(fixed[fix_idx], targets)
    duals = np.zeros(len(active))
    duals[rows] = -np.asarray(res.ineqlin.marginals)
    return StageSolution(float(res.x[-1]), np.asarray(res.x[:-1]), np.maximum(duals, 0.0), float(-res.eqlin.marginals[0]))


def column_generation(
    model: TypeModel,
    panels: PanelSet,
    active: np.ndarray,
    fixed: np.ndarray,
    fixed_mask: np.ndarray,
    target: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> StageSolution:
    """Add improving panels until none exists; returns the stage optimum.

    Pricing first tries swap local search from the panels the LP currently uses (cheap, and each
    of them sits exactly at the LP bound, so any improving swap gives an improving panel); only when
    no swap helps does the exact MILP decide whether the stage is optimal.
    """
    for _ in range(MAX_ROUNDS):
        sol = solve_stage(panels, active, fixed, fixed_mask)
        weights = sol.duals / model.counts
        limit = max(PRUNE_MIN, PRUNE_FACTOR * model.num_types)
        if len(panels) > limit:
            # Unused panels with the worst reduced cost only slow the LP down; the current solution
            # uses none of them, so dropping them keeps every fixed level reachable.
            reduced = np.asarray(panels.matrix().T @ sol.duals).ravel()
            used = sol.x > 1e-12
            order = np.argsort(-np.where(used, np.inf, reduced))
            panels.keep(order[: max(int(used.sum()), limit // 2)])
            sol = solve_stage(panels, active, fixed, fixed_mask)
            weights = sol.duals / model.counts
        basic = np.flatnonzero(sol.x > 1e-12)
        added = 0
        starts = [panels.panels[j] for j in basic[np.argsort(-sol.x[basic])][:HEURISTIC_STARTS]]
        if target is not None and rng is not None:
            sampled = (sample_panel(model, target, rng) for _ in range(HEURISTIC_STARTS))
            starts += [c for c in sampled if c is not None]
        for start in starts:
            c = improve_by_swaps(model, weights, start)
            if float(weights @ c) > sol.cap + EPS and panels.add(c):
                added += 1
        if added:
            continue
        exact = best_panel(model, weights)
        if exact is None:  # pragma: no cover - feasibility was established before
            raise SelectionError("no panel meets the quotas", code="infeasible")
        c = exact
        if float(weights @ c) <= sol.cap + EPS or not panels.add(c):
            return sol
    raise SelectionError("column generation did not converge", code="no_convergence")  # pragma: no cover


def leximin_distribution(
    model: TypeModel,
    panels: PanelSet,
    rng: np.random.Generator,
    progress: Callable[[float, str], None] | None = None,
) -> tuple[np.ndarray, dict[str, int]]:
    """LEXIMIN distribution over ``panels`` (extended in place).

    Returns:
        ``x`` (probability of each panel in ``panels.panels``) and statistics.
    """
    active, target = warm_start(model, panels, rng, min(WARM_SAMPLES, model.num_types))
    num_types = model.num_types
    fixed = np.zeros(num_types)
    fixed_mask = ~active  # types in no feasible panel are fixed at probability 0
    stages = 0
    sol = None
    while not fixed_mask.all():
        stages += 1
        sol = column_generation(model, panels, active, fixed, fixed_mask, target, rng)
        tight = (sol.duals > DUAL_FIX) & ~fixed_mask
        if sol.z >= 1.0 - 1e-9:  # nobody can exceed certainty: everyone left is done
            tight = ~fixed_mask
        if not tight.any():
            tight = np.zeros(num_types, dtype=bool)
            tight[int(np.argmax(np.where(fixed_mask, -1.0, sol.duals)))] = True
        fixed[tight] = sol.z
        fixed_mask |= tight
        if progress is not None:
            progress(float(fixed_mask.mean()), f"stage {stages}: {int(fixed_mask.sum())}/{num_types} types fixed")
    if sol is None:  # pragma: no cover - there is always at least one coverable type
        raise SelectionError("nothing to select", code="empty")
    x = final_distribution(panels, active, fixed)
    return x, {"stages": stages, "panels_generated": len(panels), "types": num_types}


def final_distribution(panels: PanelSet, active: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """A distribution meeting every fixed level, minimising the largest shortfall (for numerical safety)."""
    m = panels.matrix()
    idx = np.flatnonzero(active)
    num_panels = m.shape[1]
    a_ub = sparse.hstack([-m[idx, :], sparse.csc_matrix(-np.ones((len(idx), 1)))], format="csc")
    a_eq = sparse.csc_matrix(np.concatenate([np.ones(num_panels), [0.0]])[None, :])
    cost = np.zeros(num_panels + 1)
    cost[-1] = 1.0
    res = linprog(cost, A_ub=a_ub, b_ub=-fixed[idx], A_eq=a_eq, b_eq=[1.0], bounds=(0, None), method="highs")
    if res.status != 0:
        raise SelectionError(f"the final LEXIMIN program failed: {res.message}", code="solver_failed")
    x: np.ndarray = np.clip(np.asarray(res.x[:-1]), 0.0, None)
    normalised: np.ndarray = x / x.sum()
    return normalised
