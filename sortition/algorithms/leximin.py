"""LEXIMIN (Flanigan, Gölz, Gupta, Hennig, Procaccia, Nature 2021) over types, solved with HiGHS.

LEXIMIN maximises the lowest selection probability, then the second lowest, and so on. Two phases:

1. **Is the relaxed optimum reachable?** Over the LP relaxation of the panel constraints (count
   vectors need not be integers) the LEXIMIN point ``p*`` takes a few small LPs and no MILP. The
   relaxation contains every mixture of real panels, so no real distribution is lexicographically
   better than ``p*``; if some mixture of real panels gives every type at least ``p*``, that
   mixture *is* the LEXIMIN distribution, with a proof. The mixture is searched as the point of the
   panels' hull nearest to ``p*`` (Wolfe's minimum-norm point, ``minnorm.py``), or, where exchanges
   do not apply, by column generation on the total expected shortfall (which reaches 0 exactly
   then). On generated and real-looking pools this is the usual case and replaces hundreds of
   stages by one. Only panels on the face of the quota polytope
   that holds ``p*`` (its tight quota rows pinned) can be in such a mixture, so this phase searches
   there alone, mostly by exchanges (``exchange.py``), which keep every quota count.
2. **Otherwise, stage after stage** (the Nature paper's algorithm): maximise the lowest
   probability among the types not yet fixed, keeping every fixed type at its level; each stage is
   column generation, and every type with a positive dual is fixed at the stage optimum. The
   panels found in phase 1 stay in the master LP, so the stages start well supplied.

Column generation keeps one HiGHS model alive (``lp.MasterLP``) so each round restarts from the
last basis. Pricing first tries short swap searches and exchanges from the panels the LP uses
(cheap: each sits exactly at the LP bound, so any improving move gives an improving panel), with
smoothed duals so that consecutive rounds do not zig-zag; only when those find
nothing does the exact MILP decide whether the LP is optimal. Working on types (not people) keeps every LP and MILP small.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

import numpy as np

from sortition.algorithms.common import (
    EPS,
    PanelSet,
    TypeModel,
    best_panel,
    face_of,
    improve_by_swaps,
    improving_neighbours,
)
from sortition.algorithms.exchange import apply_move, exchange_index, exchange_moves
from sortition.algorithms.lp import LPSolution, MasterLP
from sortition.algorithms.minnorm import reach
from sortition.algorithms.relaxation import warm_start
from sortition.errors import SelectionError

DUAL_FIX = 1e-6  # a dual weight above this marks a type as tight at the optimum
MAX_ROUNDS = 100_000
HEURISTIC_STARTS = 256
WARM_SAMPLES = 400
REACHED = 1e-6  # largest shortfall (in probability) accepted as "the relaxed optimum is reached"
STOP_AT = 1e-8  # column generation stops once no type's probability under the mixture is this far below its goal
LEVEL_MARGIN = 1e-10  # fixed levels are kept this much below the optimum, so later LPs stay feasible
PRUNE_FACTOR = 3  # keep at most this many panels per LP row
SWAP_STEPS = 2
MAX_NEW = 10_000  # most columns added per round (the most improving first)
NEIGHBOURS = 64  # improving neighbours of an exact pricing panel added with it
SMOOTHING = 0.5  # weight of the earlier duals in the pricing weights
EXCHANGE_STARTS = 64  # panels in use whose exchanges are scored each round
EXCHANGES_PER_START = 32  # improving exchanges kept per start
USE_MIN_NORM = True  # phase 1 by the minimum-norm point (else column generation on the LP)
MIN_NORM_STEPS = 2_000  # steps before phase 1 falls back to the LP


class ColumnGeneration:
    """Prices panels into a master LP until no panel improves it."""

    def __init__(self, model: TypeModel, panels: PanelSet, active: np.ndarray) -> None:
        self.model = model
        self.pricing = model  # the model new panels are searched in (a face of it while reaching a target)
        self.panels = panels
        self.lp = MasterLP(model.counts, active)
        self.lp.add_panels(panels.panels)
        self.exchange = exchange_index(model)
        self.center: np.ndarray | None = None  # smoothed duals (per-person weights) of the rounds so far
        self.rounds = 0
        self.exact_pricings = 0
        self.limit = max(200, int(PRUNE_FACTOR * (int(active.sum()) + 1)))

    def optimise(self, good_enough: Callable[[LPSolution], bool] | None = None) -> LPSolution:
        """Column generation to the optimum (or until ``good_enough`` says the solution is provably optimal)."""
        sol = None
        self.center = None  # each call is a new LP (phase or stage): smoothing starts afresh
        for _ in range(MAX_ROUNDS):
            self.rounds += 1
            if sol is not None and len(self.panels) > self.limit:
                self._prune(sol)
            sol = self.lp.solve()
            if good_enough is not None and good_enough(sol):
                return sol
            weights = sol.duals / self.model.counts
            used = np.flatnonzero(sol.x > 1e-12)
            ordered = (self.panels.panels[j] for j in used[np.argsort(-sol.x[used])])
            if self.pricing is not self.model:  # only panels on the face, checked until enough are found
                ordered = (c for c in ordered if self.pricing.meets_quotas(c))
            starts = list(islice(ordered, max(HEURISTIC_STARTS, EXCHANGE_STARTS)))
            # Dual smoothing (Wentges): search with a blend of these duals and the earlier ones, so
            # consecutive rounds pull the same way instead of zig-zagging; keep what improves this LP.
            smooth = weights if self.center is None else SMOOTHING * self.center + (1 - SMOOTHING) * weights
            self.center = smooth
            new = self._heuristic(smooth, weights, sol.cap, starts)
            if not new and smooth is not weights:
                new = self._heuristic(weights, weights, sol.cap, starts)
            if not new:
                self.exact_pricings += 1
                exact = best_panel(self.pricing, weights)
                if exact is None and self.pricing is not self.model:
                    return sol  # the face holds no panel at all: the target is out of reach
                if exact is None:  # pragma: no cover - feasibility was established before
                    raise SelectionError("no panel meets the quotas", code="infeasible")
                if float(weights @ exact) <= sol.cap + EPS or not self.panels.add(exact):
                    return sol
                new = [exact]
                neighbours = improving_neighbours(self.pricing, weights, exact, sol.cap + EPS, NEIGHBOURS)
                if self.exchange is not None:
                    neighbours += self._exchanges(weights, exact, sol.cap + EPS, NEIGHBOURS)
                for c in neighbours:
                    if self.panels.add(c):
                        new.append(c)
            self.lp.add_panels(new)
        raise SelectionError("column generation did not converge", code="no_convergence")  # pragma: no cover

    def _heuristic(self, search: np.ndarray, weights: np.ndarray, cap: float, starts: list[np.ndarray]) -> list[np.ndarray]:
        """New panels found by swaps and exchanges from ``starts`` under ``search`` that improve the LP (``weights``, ``cap``)."""
        found: dict[bytes, tuple[float, np.ndarray]] = {}
        for start in starts[:HEURISTIC_STARTS]:
            c = improve_by_swaps(self.pricing, search, start, SWAP_STEPS)
            value = float(weights @ c)
            if value > cap + EPS and c.tobytes() not in self.panels:
                found[c.tobytes()] = (value, c)
        if self.exchange is not None:
            for start in starts[:EXCHANGE_STARTS]:
                for c in self._exchanges(search, start, float(search @ start), EXCHANGES_PER_START):
                    value = float(weights @ c)
                    if value > cap + EPS:
                        found.setdefault(c.tobytes(), (value, c))
        best = sorted(found.values(), key=lambda vc: -vc[0])[:MAX_NEW]
        return [c for _, c in best if self.panels.add(c)]

    def _exchanges(self, weights: np.ndarray, c: np.ndarray, above: float, limit: int) -> list[np.ndarray]:
        """Up to ``limit`` panels one exchange away from ``c`` (same quota counts) weighing more than ``above``."""
        assert self.exchange is not None
        moves = exchange_moves(self.exchange, self.model, weights, c, above - float(weights @ c), limit)
        out = []
        for move in moves:
            n = apply_move(c, move)
            if n.tobytes() not in self.panels:
                out.append(n)
        return out

    def _prune(self, sol: LPSolution) -> None:
        """Drop the unused panels with the worst reduced cost: they only slow the LP down.

        ``sol`` is the last solution; panels added since have no weight in it. Columns in the basis
        have reduced cost 0 and are always kept, so the warm basis survives.
        """
        reduced = np.asarray(self.panels.matrix().T @ sol.duals).ravel() - sol.cap
        reduced[: len(sol.x)][sol.x > 1e-12] = np.inf  # the panels in use stay
        keep = np.sort(np.argsort(-reduced)[: self.limit // 2])
        keep = np.union1d(keep, np.flatnonzero(reduced > -1e-9))
        drop = np.setdiff1d(np.arange(len(self.panels)), keep)
        if len(drop):
            self.panels.keep(keep)
            self.lp.remove_panels(drop)


def leximin_distribution(
    model: TypeModel,
    panels: PanelSet,
    rng: np.random.Generator,
    progress: Callable[[float, str], None] | None = None,
    try_relaxation: bool = True,
) -> tuple[np.ndarray, dict[str, int]]:
    """LEXIMIN distribution over ``panels`` (extended in place).

    ``try_relaxation=False`` skips phase 1 (tests use it to check both phases against each other).

    Returns:
        ``x`` (probability of each panel in ``panels.panels``) and statistics.
    """
    active, target, complete = warm_start(model, panels, rng, min(WARM_SAMPLES, 2 * model.num_types))
    cg = ColumnGeneration(model, panels, active)
    stats = {"types": model.num_types, "stages": 0, "relaxation_reached": 0}
    if target is not None and complete and try_relaxation:
        goal = np.where(active, target / model.counts, 0.0)
        if progress is not None:
            progress(0.05, "trying the relaxed optimum")
        cg.pricing, stats["face_rows"] = face_of(model, target)

        def shortfall_of(x: np.ndarray) -> float:
            """Largest amount by which a type's probability under ``x`` falls below the goal."""
            p = np.asarray(panels.matrix() @ _normalised(x)).ravel()
            return float(np.max(np.where(active, goal - p, 0.0)))

        if cg.exchange is not None and USE_MIN_NORM:
            x = _reach_by_min_norm(cg, goal, active, stats, progress)
            if x is not None and shortfall_of(x) <= REACHED:
                stats.update(relaxation_reached=1, panels_generated=len(panels))
                if progress is not None:
                    progress(1.0, f"relaxed optimum reached with {len(panels)} panels")
                return x, stats
        cg.lp.set_targets(goal)

        def shortfall(s: LPSolution) -> float:
            return shortfall_of(s.x)

        sol = cg.optimise(lambda s: shortfall(s) <= STOP_AT)
        if shortfall(sol) <= REACHED:
            stats.update(relaxation_reached=1, rounds=cg.rounds, exact_pricings=cg.exact_pricings, panels_generated=len(panels))
            if progress is not None:
                progress(1.0, f"relaxed optimum reached with {len(panels)} panels")
            return _normalised(sol.x), stats
        cg.lp.end_targets()
        cg.pricing = model
    num_types = model.num_types
    fixed_mask = ~active  # types in no feasible panel are fixed at probability 0
    cg.lp.set_free(np.flatnonzero(active))
    stage: LPSolution | None = None
    while not fixed_mask.all():
        stats["stages"] += 1
        stage = sol = cg.optimise()
        tight = (sol.duals > DUAL_FIX) & ~fixed_mask
        if sol.z >= 1.0 - 1e-9:  # nobody can exceed certainty: everyone left is done
            tight = ~fixed_mask
        if not tight.any():
            tight = np.zeros(num_types, dtype=bool)
            tight[int(np.argmax(np.where(fixed_mask, -1.0, sol.duals)))] = True
        idx = np.flatnonzero(tight & active)
        cg.lp.set_fixed(idx, np.full(len(idx), max(sol.z - LEVEL_MARGIN, 0.0)))
        fixed_mask |= tight
        if progress is not None:
            progress(float(fixed_mask.mean()), f"stage {stats['stages']}: {int(fixed_mask.sum())}/{num_types} types fixed")
    if stage is None:  # pragma: no cover - there is always at least one coverable type
        raise SelectionError("nothing to select", code="empty")
    stats.update(rounds=cg.rounds, exact_pricings=cg.exact_pricings, panels_generated=len(panels))
    return _normalised(stage.x), stats


def _reach_by_min_norm(
    cg: ColumnGeneration,
    goal: np.ndarray,
    active: np.ndarray,
    stats: dict[str, int],
    progress: Callable[[float, str], None] | None,
) -> np.ndarray | None:
    """Phase 1 by the minimum-norm point (``minnorm.py``): the weights over ``cg.panels``, or None.

    On success the panel set is cut down to the mixture's panels (``x`` follows its order). If the
    goal is out of reach or the step budget runs out, the panels found join the LP, so the column
    generation that follows starts from them.
    """
    assert cg.exchange is not None
    panels = cg.panels
    start = [c for c in panels.panels if cg.pricing.meets_quotas(c)]
    if not start:
        return None
    report = None if progress is None else (lambda f: progress(0.05 + 0.9 * f, "reaching the relaxed optimum"))
    result = reach(cg.model, cg.pricing, cg.exchange, goal, active, start, stop=STOP_AT, max_steps=MIN_NORM_STEPS, progress=report)
    stats.update({f"min_norm_{k}": int(v) for k, v in result.stats.items() if k != "seconds"})
    added = [c for c in result.panels if panels.add(c)]
    if result.shortfall > REACHED:  # out of reach (or out of steps): the LP takes over
        cg.lp.add_panels(added)
        return None
    index = {c.tobytes(): i for i, c in enumerate(panels.panels)}
    keep = np.array([index[c.tobytes()] for c in result.panels], dtype=np.int64)
    order = np.argsort(keep)
    panels.keep(keep)  # panels.panels is now sorted by the old index
    return np.asarray(result.weights[order], dtype=float)


def _normalised(x: np.ndarray) -> np.ndarray:
    x = np.clip(np.asarray(x, dtype=float), 0.0, None)
    out: np.ndarray = x / x.sum()
    return out
