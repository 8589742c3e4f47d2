"""Warm start for column generation: LEXIMIN over the LP relaxation, then panels sampled around it.

The relaxation (count vectors need not be integers) has a LEXIMIN point ``c*`` found with a few
small LPs and no MILP at all. Rounding ``c*`` at random (keeping its expectation) and repairing
quota violations with swaps gives many feasible panels whose mixture is already close to the true
LEXIMIN distribution, so the exact column generation afterwards needs few pricing rounds.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from sortition.algorithms.common import PanelSet, TypeModel, face_of, initial_panels

DUAL_FIX = 1e-6
# The relaxed levels are the targets phase 2 must reach exactly, so they are solved tighter than usual.
TIGHT = {"primal_feasibility_tolerance": 1e-9, "dual_feasibility_tolerance": 1e-9}
LEVEL_MARGINS = (1e-10, 1e-9, 1e-8, 1e-7)  # how far below its level a fixed type may go, tried in turn


def relaxed_leximin(model: TypeModel, active: np.ndarray) -> tuple[np.ndarray | None, bool]:
    """LEXIMIN expected count vector over the LP relaxation, and whether every stage was solved.

    If the solver fails part way, the last stage's point is returned with ``False``: still a good
    centre for sampling panels, but not the relaxed LEXIMIN, so it proves nothing.
    """
    t = model.num_types
    n = model.counts.astype(float)
    fixed = np.zeros(t)
    fixed_mask = ~active
    rows = [sparse.csr_matrix(np.ones((1, t))), model.quota_matrix]
    lo = [np.array([model.size]), model.lo]
    hi = [np.array([model.size]), model.hi]
    if model.household_matrix is not None and model.household_matrix.shape[0]:
        rows.append(model.household_matrix)
        lo.append(np.full(model.household_matrix.shape[0], -np.inf))
        hi.append(np.ones(model.household_matrix.shape[0]))
    base = sparse.vstack(rows, format="csr")
    base_lo, base_hi = np.concatenate(lo), np.concatenate(hi)
    finite = np.isfinite(base_lo)
    c: np.ndarray | None = None
    for _ in range(t + 1):
        if fixed_mask.all():
            break
        free = np.flatnonzero(~fixed_mask)
        # variables: c (t), z. rows: base <= hi; -base <= -lo; z - c_t/n_t <= 0 for free t
        a_ub = sparse.vstack(
            [
                sparse.hstack([base, sparse.csr_matrix((base.shape[0], 1))]),
                sparse.hstack([-base[finite], sparse.csr_matrix((int(finite.sum()), 1))]),
                sparse.hstack(
                    [
                        sparse.csr_matrix((-1.0 / n[free], (np.arange(len(free)), free)), shape=(len(free), t)),
                        sparse.csr_matrix(np.ones((len(free), 1))),
                    ]
                ),
            ],
            format="csc",
        )
        b_ub = np.concatenate([base_hi, -base_lo[finite], np.zeros(len(free))])
        cost = np.zeros(t + 1)
        cost[-1] = -1.0
        for margin in LEVEL_MARGINS:
            # Fixed levels come from earlier LPs; their rounding can make them a hair too high to
            # reach together again, so they are kept a tiny margin below.
            lower = np.where(fixed_mask & active, np.maximum(fixed - margin, 0.0) * n, 0.0)
            bounds = list(zip(np.append(lower, 0.0), np.append(n, 1.0), strict=True))
            res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs-ds", options=TIGHT)
            if res.status == 0:
                break
        else:
            return c, False
        z = float(res.x[-1])
        c = np.asarray(res.x[:-1])
        duals = -np.asarray(res.ineqlin.marginals[-len(free):])
        tight = duals > DUAL_FIX
        if z >= 1 - 1e-9:
            tight[:] = True
        if not tight.any():
            tight[int(np.argmax(duals))] = True
        fixed[free[tight]] = z
        fixed_mask[free[tight]] = True
    return c, bool(fixed_mask.all())


def _violation(model: TypeModel, c: np.ndarray) -> float:
    q = np.asarray(model.quota_matrix @ c).ravel()
    v = float(np.maximum(model.lo - q, 0).sum() + np.maximum(q - model.hi, 0).sum())
    if model.household_matrix is not None and model.household_matrix.shape[0]:
        v += float(np.maximum(np.asarray(model.household_matrix @ c).ravel() - 1, 0).sum())
    return v


def sample_panel(model: TypeModel, target: np.ndarray, rng: np.random.Generator, max_steps: int = 60) -> np.ndarray | None:
    """Round ``target`` at random (systematic sampling) and repair quota violations by swaps."""
    base = np.floor(target + 1e-9)
    frac = np.clip(target - base, 0, 1)
    need = model.size - int(base.sum())
    c: np.ndarray = base.astype(np.int64)
    if need > 0:
        order = rng.permutation(len(frac))
        cum = np.cumsum(frac[order])
        picks = np.searchsorted(cum, rng.random() + np.arange(need), side="right")
        picks = np.minimum(picks, len(order) - 1)
        np.add.at(c, order[picks], 1)
    c = np.minimum(c, model.counts)
    while c.sum() < model.size:  # a capped type lost a seat: give it to someone with room
        room = np.flatnonzero(c < model.counts)
        c[rng.choice(room)] += 1
    qt = model.type_rows
    for _ in range(max_steps):
        if _violation(model, c) == 0:
            return c
        q = qt.T @ c
        out_t = np.flatnonzero(c > 0)
        in_t = np.flatnonzero(c < model.counts)
        # only swaps touching a violated row can help: prefilter to keep the products small
        short = (q < model.lo).astype(float)
        over = (q > model.hi).astype(float)
        if short.any():
            in_t = in_t[qt[in_t] @ short > 0]
        if over.any():
            out_t = out_t[qt[out_t] @ over > 0]
        if not len(in_t) or not len(out_t):
            break
        # change of total violation when a row loses / gains one member
        d_out = np.where(q > model.hi, -1.0, np.where(q <= model.lo, 1.0, 0.0))
        d_in = np.where(q < model.lo, -1.0, np.where(q >= model.hi, 1.0, 0.0))
        a_rows, b_rows = qt[out_t], qt[in_t]
        delta = (a_rows @ d_out)[:, None] + (b_rows @ d_in)[None, :] - (a_rows * (d_out + d_in)) @ b_rows.T
        delta[out_t[:, None] == in_t[None, :]] = np.inf
        best = delta.min()
        if best >= 0:
            break
        choices = np.flatnonzero(delta.ravel() <= best + 1e-12)
        a, b = divmod(int(rng.choice(choices)), len(in_t))
        c[out_t[a]] -= 1
        c[in_t[b]] += 1
    return c if _violation(model, c) == 0 else None


def warm_start(
    model: TypeModel, panels: PanelSet, rng: np.random.Generator, samples: int
) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Seed ``panels`` with panels sampled around the relaxed LEXIMIN point, then cover the rest.

    Returns the mask of types that are in some feasible panel, the relaxed point (or None) and
    whether that point is the exact relaxed LEXIMIN.
    """
    target, complete = relaxed_leximin(model, np.ones(model.num_types, dtype=bool))
    candidates = None
    if target is not None:
        candidates = target > 1e-9  # in no fractional panel => in no panel
        # Sampled on the face of the quota polytope that holds the target (its tight quota rows
        # pinned): only such panels can be part of a mixture that reaches it.
        face = face_of(model, target)[0] if complete else model
        for _ in range(samples):
            c = sample_panel(face, target, rng)
            if c is None and face is not model:
                c = sample_panel(model, target, rng)
            if c is not None:
                panels.add(c)
    return initial_panels(model, panels, rng, candidates), target, complete
