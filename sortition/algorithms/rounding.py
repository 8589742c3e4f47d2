"""Transparent rounding (Flanigan, Kehne, Procaccia, NeurIPS 2021): an optimal distribution over
panels becomes a uniform lottery over ``m`` tickets with every person's probability nearly unchanged.

1. Each panel P gets ``floor(m x_P)`` tickets; the ``R`` leftover tickets go to panels chosen by a
   small MILP that minimises the largest change of any type's expected share (a time-limited HiGHS
   run; if it fails, systematic sampling, which keeps every expectation exact, is used instead).
2. Tickets are turned into panels of people: the members of each type take turns (in an order drawn
   from the lottery generator), so everyone of a type appears on ⌊S/n⌋ or ⌈S/n⌉ of the tickets.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from sortition.algorithms.common import TypeModel
from sortition.types import Lottery, Pool

ROUNDING_TIME_LIMIT = 10.0


def _leftover_choice(a: sparse.csc_matrix, frac: np.ndarray, extra: int, rng: np.random.Generator) -> np.ndarray:
    """0/1 vector choosing ``extra`` of the panels with fractional parts ``frac``."""
    k = len(frac)
    if extra <= 0 or k == 0:
        return np.zeros(k, dtype=np.int64)
    # variables: r (k binaries), e; minimise e s.t. -e <= A (r - frac) <= e, sum r = extra
    rows = a.shape[0]
    target = np.asarray(a @ frac).ravel()
    plus = sparse.hstack([a, -np.ones((rows, 1))])
    minus = sparse.hstack([a, np.ones((rows, 1))])
    cons = [
        LinearConstraint(plus, -np.inf, target),
        LinearConstraint(minus, target, np.inf),
        LinearConstraint(np.append(np.ones(k), 0.0)[None, :], extra, extra),
    ]
    cost = np.zeros(k + 1)
    cost[-1] = 1.0
    res = milp(
        cost,
        constraints=cons,
        integrality=np.append(np.ones(k), 0),
        bounds=Bounds(np.zeros(k + 1), np.append(np.ones(k), np.inf)),
        options={"time_limit": ROUNDING_TIME_LIMIT, "mip_rel_gap": 1e-3},
    )
    if res.x is not None:
        chosen: np.ndarray = np.rint(res.x[:k]).astype(np.int64)
        if int(chosen.sum()) == extra:
            return chosen
    # systematic sampling keeps each panel's expected number of tickets exact
    cum = np.cumsum(frac)
    picks = np.searchsorted(cum, rng.random() + np.arange(extra), side="right")
    r = np.zeros(k, dtype=np.int64)
    r[np.minimum(picks, k - 1)] = 1
    return r


def round_to_lottery(
    model: TypeModel,
    pool: Pool,
    panels: list[np.ndarray],
    x: np.ndarray,
    m: int,
    rng: np.random.Generator,
) -> Lottery:
    """A uniform lottery over ``m`` tickets approximating the distribution ``x`` over ``panels``."""
    keep = np.flatnonzero(x > 1e-12)
    probs = x[keep] / x[keep].sum()
    counts = np.stack([panels[i] for i in keep], axis=1)  # types × panels
    scaled = probs * m
    copies = np.floor(scaled + 1e-9).astype(np.int64)
    frac = np.clip(scaled - copies, 0.0, 1.0)
    extra = m - int(copies.sum())
    has_frac = np.flatnonzero(frac > 1e-9)
    if extra > len(has_frac):  # only possible through floating error
        has_frac = np.argsort(-frac)[:extra]
    a = sparse.csc_matrix(counts[:, has_frac] / model.counts[:, None])
    copies[has_frac] += _leftover_choice(a, frac[has_frac], extra, rng)
    # Turn type-level tickets into people: members of each type take turns.
    order = [list(rng.permutation(members)) for members in model.members]
    pointer = np.zeros(model.num_types, dtype=np.int64)
    tickets: dict[tuple[str, ...], int] = {}
    for j in range(counts.shape[1]):
        for _ in range(int(copies[j])):
            chosen: list[str] = []
            for t in np.flatnonzero(counts[:, j]):
                n_t = len(order[t])
                for step in range(int(counts[t, j])):
                    chosen.append(pool.people[int(order[t][(pointer[t] + step) % n_t])].id)
                pointer[t] = (pointer[t] + counts[t, j]) % n_t
            key = tuple(sorted(chosen))
            tickets[key] = tickets.get(key, 0) + 1
    ordered = sorted(tickets)
    return Lottery(tuple(ordered), tuple(tickets[p] for p in ordered))
