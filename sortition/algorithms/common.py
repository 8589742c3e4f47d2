"""Shared machinery: the type model of a pool, the panel-pricing MILP and LP helpers.

People with identical feature vectors are interchangeable, so every algorithm works over *types*:
a panel is a count vector ``c`` (``c[t]`` people of type ``t``) and everybody of a type gets the
same probability ``E[c[t]] / n[t]``. With households switched on, people who share an address
with someone else become their own type (count 1) and each household adds a row ``sum c <= 1``;
everyone else is still grouped by feature vector.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from sortition.errors import SelectionError
from sortition.types import Pool, Quota

EPS = 1e-7  # pricing / convergence tolerance on probabilities
MIP_GAP = 1e-9
SWAP_CANDIDATES = 150


@dataclass
class TypeModel:
    """A pool reduced to types with the linear constraints every panel must meet."""

    size: int
    counts: np.ndarray  # n[t], number of people of each type
    members: list[list[int]]  # indices into pool.people, per type
    quota_keys: list[tuple[str, str]]
    quota_matrix: sparse.csr_matrix  # rows: feature values, cols: types (0/1)
    lo: np.ndarray
    hi: np.ndarray
    household_matrix: sparse.csr_matrix | None
    value_rows: np.ndarray  # [t, j]: quota row of type t's value of feature j (-1 if no row)
    type_rows: np.ndarray  # dense types × quota rows 0/1 (the transposed quota matrix)
    household_of: np.ndarray  # [t]: household row of type t (-1 if none)
    _constraints: list[LinearConstraint] = field(default_factory=list, repr=False)

    @property
    def num_types(self) -> int:
        return int(self.counts.shape[0])

    def constraints(self) -> list[LinearConstraint]:
        if not self._constraints:
            t = self.num_types
            self._constraints.append(LinearConstraint(np.ones((1, t)), self.size, self.size))
            self._constraints.append(LinearConstraint(self.quota_matrix, self.lo, self.hi))
            if self.household_matrix is not None and self.household_matrix.shape[0]:
                self._constraints.append(LinearConstraint(self.household_matrix, -np.inf, 1))
        return self._constraints

    def meets_quotas(self, counts: np.ndarray) -> bool:
        per_value = self.quota_matrix @ counts
        ok = bool(np.all(per_value >= self.lo) and np.all(per_value <= self.hi))
        ok = ok and int(counts.sum()) == self.size and bool(np.all(counts <= self.counts)) and bool(np.all(counts >= 0))
        if self.household_matrix is not None and self.household_matrix.shape[0]:
            ok = ok and bool(np.all(self.household_matrix @ counts <= 1))
        return ok


def face_of(model: TypeModel, target: np.ndarray, tol: float = 1e-7) -> tuple[TypeModel, int]:
    """The model restricted to the smallest face of the quota polytope that holds ``target``.

    ``target`` is an expected count vector (a point of the LP relaxation). If a quota row is at its
    minimum (or maximum) there, every panel of any mixture whose expectation is ``target`` sits at
    that minimum too: a mixture of panels at or above a bound averages exactly to the bound only if
    none is above. So when we look for a mixture equal to ``target`` only panels with those rows
    pinned can help, and searching among them alone saves the column generation most of its work
    (on real-looking pools nearly every quota row is tight at the LEXIMIN point). Returns the
    restricted model and the number of rows pinned.
    """
    q = np.asarray(model.quota_matrix @ target).ravel()
    at_lo = np.abs(q - model.lo) <= tol
    at_hi = np.abs(q - model.hi) <= tol
    lo = np.where(at_hi, model.hi, model.lo)
    hi = np.where(at_lo, model.lo, model.hi)
    return replace(model, lo=lo, hi=hi, _constraints=[]), int((at_lo | at_hi).sum())


def build_type_model(pool: Pool, size: int, quotas: list[Quota] | None = None) -> TypeModel:
    """Group the pool into types and build the quota rows (``quotas`` overrides the pool's)."""
    cats = pool.categories
    quota_list = quotas if quotas is not None else cats.quota_list()
    households: dict[tuple[str, ...], list[int]] = {}
    for i, person in enumerate(pool.people):
        if person.household is not None:
            households.setdefault(person.household, []).append(i)
    shared = {i for members in households.values() if len(members) > 1 for i in members}
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, person in enumerate(pool.people):
        key: tuple[object, ...] = ("~", person.id) if i in shared else (person.values,)
        groups.setdefault(key, []).append(i)
    keys = sorted(groups, key=lambda k: (len(k), str(k)))
    members = [groups[k] for k in keys]
    counts = np.array([len(m) for m in members], dtype=np.int64)
    fidx = {f: j for j, f in enumerate(cats.features)}
    rows, cols = [], []
    for r, q in enumerate(quota_list):
        j = fidx[q.feature]
        for t, mem in enumerate(members):
            if pool.people[mem[0]].values[j] == q.value:
                rows.append(r)
                cols.append(t)
    qm = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(quota_list), len(members)))
    type_of = {i: t for t, mem in enumerate(members) for i in mem}
    value_rows = np.full((len(members), len(cats.features)), -1, dtype=np.int64)
    row_of = {(q.feature, q.value): r for r, q in enumerate(quota_list)}
    for t, mem in enumerate(members):
        for j, f in enumerate(cats.features):
            value_rows[t, j] = row_of.get((f, pool.people[mem[0]].values[j]), -1)
    hh_rows = [sorted({type_of[i] for i in mem}) for mem in households.values() if len(mem) > 1]
    hm = None
    if hh_rows:
        r_idx = [r for r, ts in enumerate(hh_rows) for _ in ts]
        c_idx = [t for ts in hh_rows for t in ts]
        hm = sparse.csr_matrix((np.ones(len(c_idx)), (r_idx, c_idx)), shape=(len(hh_rows), len(members)))
    household_of = np.full(len(members), -1, dtype=np.int64)
    for r, ts in enumerate(hh_rows):
        household_of[ts] = r
    return TypeModel(
        size=size,
        counts=counts,
        members=members,
        quota_keys=[(q.feature, q.value) for q in quota_list],
        quota_matrix=qm,
        lo=np.array([q.min for q in quota_list], dtype=float),
        hi=np.array([q.max for q in quota_list], dtype=float),
        household_matrix=hm,
        value_rows=value_rows,
        type_rows=qm.T.toarray(),
        household_of=household_of,
    )


def best_panel(model: TypeModel, weights: np.ndarray, time_limit: float | None = None) -> np.ndarray | None:
    """The panel (count vector) maximising ``weights @ c``, or None if no panel meets the quotas."""
    options: dict[str, object] = {"mip_rel_gap": MIP_GAP}
    if time_limit is not None:
        options["time_limit"] = time_limit
    res = milp(
        -np.asarray(weights, dtype=float),
        constraints=model.constraints(),
        integrality=np.ones(model.num_types),
        bounds=Bounds(np.zeros(model.num_types), model.counts.astype(float)),
        options=options,
    )
    if res.x is None:
        if res.status == 2:  # infeasible
            return None
        raise SelectionError(f"the panel-finding MILP failed: {res.message}", code="solver_failed")
    panel: np.ndarray = np.rint(res.x).astype(np.int64)
    return panel


def _swap_gains(model: TypeModel, weights: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Gain of every quota-keeping swap out of ``c`` (rows: types leaving, columns: types joining).

    A swap a→b is feasible when every value of a that sits at its minimum is shared by b and every
    value of b at its maximum is shared by a; counting those with two small matrix products keeps
    this fast. Infeasible swaps have gain -inf. None when no swap can improve.
    """
    qt = model.type_rows
    hh = model.household_of
    per_value = qt.T @ c
    at_min = (per_value - 1 < model.lo - 1e-9).astype(float)
    at_max = (per_value + 1 > model.hi + 1e-9).astype(float)
    out_types = np.flatnonzero(c > 0)
    in_types = np.flatnonzero(c < model.counts)
    if not len(out_types) or not len(in_types):
        return None
    floor = weights[out_types].min()
    in_types = in_types[weights[in_types] > floor]  # only heavier types can improve
    if len(in_types) > SWAP_CANDIDATES:
        in_types = in_types[np.argpartition(-weights[in_types], SWAP_CANDIDATES)[:SWAP_CANDIDATES]]
    if not len(in_types):
        return None
    a_rows, b_rows = qt[out_types], qt[in_types]
    bad_down = (a_rows @ at_min)[:, None] - (a_rows * at_min) @ b_rows.T
    bad_up = (b_rows @ at_max)[None, :] - (a_rows * at_max) @ b_rows.T
    feasible = (bad_down < 0.5) & (bad_up < 0.5) & (out_types[:, None] != in_types[None, :])
    if model.household_matrix is not None:
        occupied = np.asarray(model.household_matrix @ c).ravel()
        hin = hh[in_types]
        free_in = (hin < 0) | (occupied[np.maximum(hin, 0)] < 1)
        feasible &= free_in[None, :] | (hh[out_types][:, None] == hin[None, :])
    gain = np.where(feasible, weights[in_types][None, :] - weights[out_types][:, None], -np.inf)
    return out_types, in_types, gain


def improve_by_swaps(model: TypeModel, weights: np.ndarray, start: np.ndarray, max_steps: int = 25) -> np.ndarray:
    """Best-improvement local search: swap one member for someone of another type, keeping quotas.

    A cheap stand-in for the pricing MILP: started from a panel the LP uses (whose dual value equals
    the LP bound), any improving swap yields a panel that improves the LP. Returns the panel reached
    (``start`` itself if no swap helps).
    """
    c = start.copy()
    for _ in range(max_steps):
        found = _swap_gains(model, weights, c)
        if found is None:
            return c
        out_types, in_types, gain = found
        best = int(np.argmax(gain))
        a, b = divmod(best, len(in_types))
        if not gain.flat[best] > 1e-12:
            return c
        c[out_types[a]] -= 1
        c[in_types[b]] += 1
    return c


def improving_neighbours(model: TypeModel, weights: np.ndarray, c: np.ndarray, above: float, limit: int) -> list[np.ndarray]:
    """Up to ``limit`` panels one swap away from ``c`` whose weight exceeds ``above``, best first.

    Column generation adds many columns per round this way when the local search alone stalls: the
    neighbours of a panel the MILP just found are mostly improving too.
    """
    found = _swap_gains(model, weights, c)
    if found is None:
        return []
    out_types, in_types, gain = found
    base = float(weights @ c)
    flat = gain.ravel()
    ok = np.flatnonzero(base + flat > above)
    ok = ok[np.argsort(-flat[ok])][:limit]
    out = []
    for idx in ok:
        a, b = divmod(int(idx), len(in_types))
        n = c.copy()
        n[out_types[a]] -= 1
        n[in_types[b]] += 1
        out.append(n)
    return out


class PanelSet:
    """Distinct panels found so far, as count vectors, with their probability matrix ``c[t]/n[t]``."""

    def __init__(self, model: TypeModel) -> None:
        self.model = model
        self.panels: list[np.ndarray] = []
        self._seen: set[bytes] = set()
        self._matrix: sparse.csc_matrix | None = None
        self._in_matrix = 0

    def add(self, counts: np.ndarray) -> bool:
        key = counts.tobytes()
        if key in self._seen:
            return False
        self._seen.add(key)
        self.panels.append(counts)
        return True

    def __len__(self) -> int:
        return len(self.panels)

    def __contains__(self, key: bytes) -> bool:
        return key in self._seen

    def keep(self, indices: np.ndarray) -> None:
        """Forget every panel not in ``indices`` (they may be found and added again later)."""
        idx = np.sort(np.asarray(indices, dtype=np.int64))
        self.panels = [self.panels[i] for i in idx]
        self._seen = {c.tobytes() for c in self.panels}
        if self._matrix is not None:
            self._matrix = self._matrix[:, idx[idx < self._in_matrix]]
            self._in_matrix = self._matrix.shape[1]

    def matrix(self) -> sparse.csc_matrix:
        """Types × panels matrix with entry ``c[t] / n[t]`` (each column sums to the panel size over n)."""
        if self._matrix is None or self._in_matrix < len(self.panels):
            new = np.stack(self.panels[self._in_matrix :], axis=1) / self.model.counts[:, None]
            block = sparse.csc_matrix(new)
            self._matrix = block if self._matrix is None else sparse.hstack([self._matrix, block], format="csc")
            self._in_matrix = len(self.panels)
        return self._matrix


def initial_panels(
    model: TypeModel, panels: PanelSet, rng: np.random.Generator, candidates: np.ndarray | None = None
) -> np.ndarray:
    """Find panels until every type that can be selected at all is in one; returns the coverable mask.

    Each MILP rewards the types not yet covered (weight 1/n so small types are not crowded out by
    large ones), so few MILPs cover everyone; when a MILP covers nobody new, the remaining types
    are in no feasible panel at all and will get probability 0. ``candidates`` (if given) marks the
    only types that can possibly be covered (others are known to be in no panel).
    """
    covered = np.zeros(model.num_types, dtype=bool)
    for c in panels.panels:
        covered |= c > 0
    hopeless = np.zeros(model.num_types, dtype=bool) if candidates is None else ~candidates
    while not (covered | hopeless).all():
        weights = np.where(covered | hopeless, 0.0, 1.0 / model.counts) * (1.0 + 0.01 * rng.random(model.num_types))
        found = best_panel(model, weights)
        if found is None:
            raise SelectionError("no panel meets the quotas", code="infeasible")
        c = found
        if not np.any((c > 0) & ~covered & ~hopeless):
            break
        panels.add(c)
        covered |= c > 0
    return covered


def probabilities_from(panels: PanelSet, x: np.ndarray) -> np.ndarray:
    """Per-type selection probability of the distribution ``x`` over ``panels``."""
    return np.asarray(panels.matrix() @ x).ravel()


def person_probabilities(model: TypeModel, type_probs: np.ndarray, num_people: int) -> np.ndarray:
    out = np.zeros(num_people)
    for t, mem in enumerate(model.members):
        out[mem] = type_probs[t]
    return out
