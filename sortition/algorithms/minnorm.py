"""Reaching the relaxed LEXIMIN point with Wolfe's minimum-norm-point algorithm.

Phase 1 of LEXIMIN (see ``leximin.py``) asks whether the relaxed optimum ``p*`` is a mixture of
real panels, and for that mixture. Column generation on a linear programme answers it exactly, but
on large pools each re-solve of its master LP (one row per type, ~150 non-zeros per panel column)
costs about as much as a cold solve, round after round. Here the question is asked as geometry
instead: the point of the convex hull of the panels found so far that lies nearest to ``p*``
(Wolfe 1976, "Finding the nearest point in a polytope"). The algorithm keeps a *corral*, a small
set of affinely independent panels whose hull holds the current nearest point, and the Cholesky
factor of their Gram matrix; adding a panel or dropping one updates that factor in O(k²), so a step
costs a few small triangular solves instead of an LP re-solve.

Distances are in expected seats (a type's coordinate is ``(p - p*)·n``). The residual ``x``
gives the search direction: a panel ``c`` brings the point closer exactly when
``-x·(v_c - x) > 0`` (``v_c`` the panel's coordinates), a linear
pricing problem over panels just like the LP's, and every corral panel sits exactly at that bound,
so the exchanges and swaps of corral panels (``exchange.py``, ``common.improve_by_swaps``) find
improving panels cheaply; the exact MILP runs only when they find none, and then also proves when
``p*`` is out of reach (the nearest point is then not ``p*`` itself).

When ``p*`` is reached (every type within ``stop`` of its goal), the corral's weights are the
distribution. When it is out of reach, or the work budget runs out, the caller falls back to LP
column generation (and the staged LEXIMIN if need be) with the corral's panels in its LP.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg.blas import drot, dtrsv

from sortition.algorithms.common import TypeModel, best_panel, improve_by_swaps, improving_neighbours
from sortition.algorithms.exchange import (
    ExchangeIndex,
    all_exchanges,
    apply_move,
    best_exchanges,
    exchange_moves,
)

EXCHANGE_STARTS = 64  # corral panels (heaviest first) whose exchanges are scored per step
EXCHANGES_PER_START = 16
EXCHANGE_CACHE = 128  # panels whose exchange lists are kept (about 1 MB each on the global instance; 512 gave the same steps and time with 781 MB peak instead of 443 MB)
SWAP_STARTS = 128  # corral panels improved by short swap searches per step
SWAP_STEPS = 2
MAX_ADD = 200  # candidates offered to the corral per step, best first
NEIGHBOURS = 64  # improving neighbours of an exact pricing panel offered with it
REFACTOR_EVERY = 400  # updates between fresh factorisations (keeps rounding errors from piling up)
# Distances are measured in expected seats (probability × n): with the probability itself
# (power 0) the global instance took 432 steps, with power 0.5 215 and with 1 150-213; power 2: far worse.
METRIC_POWER = 1.0
ZERO = 1e-14  # weights at or below this leave the corral
DEPENDENT = 1e-12  # relative size of a new point's distance to the corral's affine hull below which it is skipped


class Corral:
    """Affinely independent points and the nearest point to the origin of their affine hull.

    Points are columns of ``V`` (m × k). With ``G = VᵀV + σ²·11ᵀ`` (positive definite exactly when
    the points are affinely independent), the affine minimiser is ``G⁻¹1`` normalised to sum 1;
    ``R`` is the upper Cholesky factor of ``G``, kept up to date as points come and go. It is stored
    as the leading block of a capacity-sized matrix whose other rows and columns are the identity,
    so the triangular solves run on the whole contiguous array (BLAS ``trsv``, no copy of a block)
    and give the block's solution in their first ``k`` entries.
    """

    def __init__(self, m: int, capacity: int, sigma: float) -> None:
        self.V = np.zeros((m, capacity))
        self.R = np.eye(capacity)
        self.u = np.zeros(capacity)  # R⁻ᵀ1 over the first k entries, kept up to date with R
        self.lam = np.zeros(capacity)
        self.k = 0
        self.sig2 = sigma * sigma
        self.tags: list[int] = []  # caller's id of each point
        self.members: set[int] = set()
        self.updates = 0

    def insert(self, v: np.ndarray, tag: int) -> bool:
        """Add ``v`` with weight 0; False (and nothing added) if it is affinely dependent on the corral."""
        k = self.k
        if k == self.V.shape[1]:
            self._grow()
        r = self._solve(self.V[:, :k].T @ v + self.sig2, transposed=True)
        norm2 = float(v @ v) + self.sig2
        rho2 = norm2 - float(r @ r)
        if rho2 <= DEPENDENT * norm2:
            return False
        self.R[:k, k] = r
        self.R[k, : k + 1] = 0.0
        self.R[k, k] = np.sqrt(rho2)
        self.u[k] = (1.0 - float(r @ self.u[:k])) / self.R[k, k]
        self.V[:, k] = v
        self.lam[k] = 0.0
        self.tags.append(tag)
        self.members.add(tag)
        self.k = k + 1
        self._updated()
        return True

    def delete(self, j: int) -> None:
        """Drop point ``j``: remove its column of ``R`` and restore the triangle with Givens rotations."""
        k = self.k
        R = self.R
        R[:k, j : k - 1] = R[:k, j + 1 : k]
        R[:k, k - 1] = 0.0
        for i in range(j, k - 1):
            a, b = R[i, i], R[i + 1, i]
            h = float(np.hypot(a, b))
            if h == 0.0:
                continue
            cos, sin = a / h, b / h
            drot(R[i, i : k - 1], R[i + 1, i : k - 1], cos, sin, overwrite_x=1, overwrite_y=1)
            R[i + 1, i] = 0.0
            u = self.u  # the same rotations keep Rᵀu = 1 (the dropped column's equation goes with it)
            u[i], u[i + 1] = cos * u[i] + sin * u[i + 1], cos * u[i + 1] - sin * u[i]
        R[k - 1, :k] = 0.0
        R[k - 1, k - 1] = 1.0
        self.u[k - 1] = 0.0
        self.V[:, j : k - 1] = self.V[:, j + 1 : k]
        self.lam[j : k - 1] = self.lam[j + 1 : k]
        self.members.discard(self.tags.pop(j))
        self.k = k - 1
        self._updated()

    def _updated(self) -> None:
        self.updates += 1
        if self.updates % REFACTOR_EVERY == 0 and self.k:
            k = self.k
            g = self.V[:, :k].T @ self.V[:, :k] + self.sig2
            try:
                self.R[:k, :k] = np.linalg.cholesky(g).T
                self.u[:k] = self._solve(np.ones(k), transposed=True)
            except np.linalg.LinAlgError:  # pragma: no cover - the updated factor stays in use
                pass

    def _grow(self) -> None:
        m, cap = self.V.shape
        v = np.zeros((m, 2 * cap))
        v[:, :cap] = self.V
        r = np.eye(2 * cap)
        r[:cap, :cap] = self.R
        self.V, self.R = v, r
        self.u = np.append(self.u, np.zeros(cap))
        self.lam = np.append(self.lam, np.zeros(cap))

    def affine(self) -> np.ndarray:
        """Weights of the nearest point to the origin of the corral's affine hull (sum 1)."""
        a = self._solve(self.u[: self.k], transposed=False)
        out: np.ndarray = a / a.sum()
        return out

    def _solve(self, b: np.ndarray, transposed: bool) -> np.ndarray:
        """``R⁻ᵀb`` (``transposed``) or ``R⁻¹b`` for the leading block, ``b`` of length ``k``."""
        k = len(b)
        padded = np.zeros(self.R.shape[0])
        padded[:k] = b
        # R.T is the Fortran-ordered lower triangle Rᵀ: trans=0 solves Rᵀy = b, trans=1 solves Ry = b
        out: np.ndarray = dtrsv(self.R.T, padded, lower=1, trans=0 if transposed else 1, overwrite_x=1)
        return out[:k]

    def point(self) -> np.ndarray:
        out: np.ndarray = self.V[:, : self.k] @ self.lam[: self.k]
        return out

    def settle(self) -> np.ndarray:
        """Wolfe's minor cycles: move towards the affine minimiser, dropping points whose weight hits 0."""
        while True:
            k = self.k
            alpha = self.affine()
            lam = self.lam[:k]
            if np.all(alpha > ZERO):
                lam[:] = alpha
                return self.point()
            neg = alpha <= ZERO
            with np.errstate(divide="ignore", invalid="ignore"):
                ratios = np.where(neg, lam / (lam - alpha), np.inf)
            theta = float(np.clip(np.min(ratios), 0.0, 1.0))
            lam[:] = (1.0 - theta) * lam + theta * alpha
            drop = np.flatnonzero(lam <= ZERO)
            if not len(drop):
                drop = np.array([int(np.argmin(ratios))])
            for j in sorted(drop.tolist(), reverse=True):
                self.delete(int(j))
            lam = self.lam[: self.k]
            np.maximum(lam, 0.0, out=lam)
            lam /= lam.sum()


@dataclass
class Reach:
    """Outcome of :func:`reach`: the corral's panels and weights, and whether ``p*`` was reached."""

    panels: list[np.ndarray]
    weights: np.ndarray
    shortfall: float  # largest amount by which a type's probability falls below its goal
    reached: bool  # shortfall <= stop
    stats: dict[str, float] = field(default_factory=dict)


def reach(
    model: TypeModel,
    face: TypeModel,
    exchange: ExchangeIndex,
    goal: np.ndarray,
    active: np.ndarray,
    start: list[np.ndarray],
    *,
    stop: float,
    max_steps: int = 2_000,
    time_limit: float | None = None,
    progress: Callable[[float], None] | None = None,
) -> Reach:
    """Nearest mixture of panels on ``face`` to the goal probabilities ``goal`` (types in ``active``).

    ``start`` are panels on the face to begin with (at least one). Stops when every type is within
    ``stop`` of its goal, when the exact pricing shows no panel brings the mixture closer (the goal
    is out of reach), or after ``max_steps`` steps / ``time_limit`` seconds.
    """
    t0 = time.perf_counter()
    rows = np.flatnonzero(active)
    n = model.counts[rows].astype(float)
    g = goal[rows]
    m = len(rows)
    found: list[np.ndarray] = []  # every panel offered, by tag
    known: dict[bytes, int] = {}

    scale = n**METRIC_POWER  # coordinates: (probability - goal) * n^power

    def vector(c: np.ndarray) -> np.ndarray:
        out: np.ndarray = (c[rows] / n - g) * scale
        return out

    vs = np.stack([vector(c) for c in start], axis=1)
    norms = np.linalg.norm(vs, axis=0)
    corral = Corral(m, m + 2, float(np.median(norms)) or 1.0)  # affinely independent in R^m: at most m + 1
    stats: dict[str, float] = {"steps": 0, "offered": 0, "exact_pricings": 0}
    exchanges: dict[bytes, np.ndarray] = {}  # every exchange of a panel, for the panels scored lately

    def offer(c: np.ndarray, x: np.ndarray) -> np.ndarray | None:
        """Add ``c`` if it brings the point closer; the new point, or None if it was not added."""
        key = c.tobytes()
        tag = known.get(key)
        if tag is not None and tag in corral.members:
            return None
        v = vector(c)
        if corral.k and float(x @ x - x @ v) <= 0.0:
            return None
        if tag is None:
            tag = known[key] = len(found)
            found.append(c)
        if not corral.insert(v, tag):
            return None
        stats["offered"] += 1
        if corral.k == 1:
            corral.lam[0] = 1.0
            return corral.point()
        return corral.settle()

    x = np.zeros(m)
    for j in np.argsort(norms):
        new = offer(start[int(j)], x)
        if new is not None:
            x = new
    reached = False
    first = max(float(np.max(-x / scale)), stop)
    while stats["steps"] < max_steps and (time_limit is None or time.perf_counter() - t0 < time_limit):
        short = float(np.max(-x / scale))
        if short <= stop:
            reached = True
            break
        if progress is not None:
            progress(float(np.clip(np.log(first / short) / np.log(first / stop), 0.0, 1.0)))
        stats["steps"] += 1
        weights = np.zeros(model.num_types)
        weights[rows] = -x * scale / n
        cap = -float(x @ x) - float(x @ (g * scale))  # a panel improves exactly when weights @ c > cap
        unit = float(np.max(np.abs(weights))) or 1.0  # near the goal x is tiny: pricing (the MILP above all) needs unit weights
        weights /= unit
        cap /= unit
        order = np.argsort(-corral.lam[: corral.k])
        corral_panels = [found[corral.tags[int(j)]] for j in order]
        candidates: dict[bytes, tuple[float, np.ndarray]] = {}
        for c in corral_panels[:EXCHANGE_STARTS]:
            key = c.tobytes()
            moves = exchanges.pop(key, None)  # re-inserted below: the dict keeps the most recent last
            if moves is None:
                moves = all_exchanges(exchange, model, c)
                if len(exchanges) >= EXCHANGE_CACHE:
                    del exchanges[next(iter(exchanges))]
            exchanges[key] = moves
            for move in best_exchanges(moves, weights, cap - float(weights @ c), EXCHANGES_PER_START):
                new_c = apply_move(c, move)
                candidates.setdefault(new_c.tobytes(), (float(weights @ new_c), new_c))
        for c in corral_panels[:SWAP_STARTS]:
            new_c = improve_by_swaps(face, weights, c, SWAP_STEPS)
            value = float(weights @ new_c)
            if value > cap:
                candidates.setdefault(new_c.tobytes(), (value, new_c))
        offered = _offer_all(candidates, offer, x)
        if offered is not None:
            x = offered
            continue
        stats["exact_pricings"] += 1
        exact = best_panel(face, weights)
        if exact is None or float(weights @ exact) <= cap + 1e-12:
            break  # nothing gets closer: the nearest point is x, short of the goal
        candidates = {exact.tobytes(): (np.inf, exact)}
        for new_c in improving_neighbours(face, weights, exact, cap, NEIGHBOURS):
            candidates.setdefault(new_c.tobytes(), (float(weights @ new_c), new_c))
        for move in exchange_moves(exchange, model, weights, exact, cap - float(weights @ exact), NEIGHBOURS):
            new_c = apply_move(exact, move)
            candidates.setdefault(new_c.tobytes(), (float(weights @ new_c), new_c))
        offered = _offer_all(candidates, offer, x)
        if offered is None:
            break  # numerically nothing changes any more
        x = offered
    k = corral.k
    short = float(np.max(-x / scale))
    reached = reached or short <= stop
    stats["corral"] = k
    stats["seconds"] = time.perf_counter() - t0
    return Reach(
        panels=[found[t] for t in corral.tags],
        weights=corral.lam[:k].copy(),
        shortfall=short,
        reached=reached,
        stats=stats,
    )


def _offer_all(
    candidates: dict[bytes, tuple[float, np.ndarray]],
    offer: Callable[[np.ndarray, np.ndarray], np.ndarray | None],
    x: np.ndarray,
) -> np.ndarray | None:
    """Offer the best ``MAX_ADD`` candidates one by one; the final point, or None if none was added."""
    moved = None
    for _, c in sorted(candidates.values(), key=lambda vc: -vc[0])[:MAX_ADD]:
        new = offer(c, x)
        if new is not None:
            x = moved = new
    return moved
