"""Transparent rounding (Flanigan, Kehne, Procaccia, NeurIPS 2021): an optimal distribution over
panels becomes a uniform lottery over ``m`` tickets with every person's probability nearly unchanged.

1. Each panel P gets ``floor(m x_P)`` tickets; the ``R`` leftover tickets go to panels chosen to keep
   the largest change of any type's expected share small: local search (single swaps) from
   systematic samples. A time-limited MILP did this before; on the 1,000-to-10,000-person
   benchmark instances it used its whole 10 s and ended with 1.5 to 8 times the error the local
   search reaches in under 2 s (docs/sortition.md).
2. Tickets are turned into panels of people: the members of each type take turns (in an order drawn
   from the lottery generator), so everyone of a type appears on ⌊S/n⌋ or ⌈S/n⌉ of the tickets.
"""

from __future__ import annotations

import numpy as np

from sortition.algorithms.common import TypeModel
from sortition.types import Lottery, Pool

ROUNDING_STARTS = 6


def _systematic(frac: np.ndarray, extra: int, rng: np.random.Generator) -> np.ndarray:
    """``extra`` distinct panels by systematic sampling: each panel's chance is its fractional part."""
    k = len(frac)
    cum = np.cumsum(frac)
    picks = np.unique(np.minimum(np.searchsorted(cum, rng.random() + np.arange(extra), side="right"), k - 1))
    r = np.zeros(k)
    r[picks] = 1.0
    if len(picks) < extra:  # only through floating error: fill with the largest fractions left
        rest = np.flatnonzero(r == 0)
        r[rest[np.argsort(-frac[rest], kind="stable")[: extra - len(picks)]]] = 1.0
    return r


def _descend_l2(gram: np.ndarray, g: np.ndarray, r: np.ndarray) -> None:
    """Steepest single swaps (one chosen panel out, one other in) while the squared error falls.

    With ``gram = AᵀA`` and ``g = Aᵀd`` the change of ``|d|²`` for swapping ``i`` out and ``j`` in is
    ``G_ii + G_jj - 2 G_ij + 2 (g_j - g_i)``, so every swap is priced at once. ``r`` and ``g`` are
    updated in place.
    """
    diag = np.diag(gram)
    for _ in range(50 * len(r)):  # each swap lowers |d|², so this bound is never the reason to stop
        ins, outs = np.flatnonzero(r == 1), np.flatnonzero(r == 0)
        if len(ins) == 0 or len(outs) == 0:
            return
        delta = (diag[ins] - 2 * g[ins])[:, None] + (diag[outs] + 2 * g[outs])[None, :]
        delta -= 2 * gram[np.ix_(ins, outs)]
        a, b = np.unravel_index(int(np.argmin(delta)), delta.shape)
        if delta[a, b] >= -1e-9:
            return
        i, j = ins[a], outs[b]
        r[i], r[j] = 0.0, 1.0
        g += gram[:, j] - gram[:, i]


def _polish_max(a: np.ndarray, d: np.ndarray, r: np.ndarray, top: int = 24) -> None:
    """Swaps that lower the largest error (then the squared error), aimed at the worst type."""
    for _ in range(10 * len(r)):
        ad = np.abs(d)
        t = int(np.argmax(ad))
        sign = np.sign(d[t])
        best = (float(ad[t]), float(d @ d), -1, -1)
        ins, outs = np.flatnonzero(r == 1), np.flatnonzero(r == 0)
        for i in ins[np.argsort(-sign * a[t, ins], kind="stable")[:top]]:
            ok = outs[sign * a[t, outs] < sign * a[t, i] - 1e-12]
            if len(ok) == 0:
                continue
            trial = (d - a[:, i])[:, None] + a[:, ok]
            worst = np.abs(trial).max(axis=0)
            sq = (trial**2).sum(axis=0)
            b = int(np.lexsort((sq, worst))[0])
            if (worst[b], sq[b]) < best[:2]:
                best = (float(worst[b]), float(sq[b]), int(i), int(ok[b]))
        if best[2] < 0:
            return
        i, j = best[2], best[3]
        r[i], r[j] = 0.0, 1.0
        d += a[:, j] - a[:, i]


def _leftover_choice(a: np.ndarray, frac: np.ndarray, extra: int, rng: np.random.Generator) -> np.ndarray:
    """0/1 vector choosing ``extra`` of the panels with fractional parts ``frac``, so that every
    type's error ``|A (r - frac)|`` (in tickets per member) stays small.

    Local search from :data:`ROUNDING_STARTS` systematic samples: steepest swaps on the squared
    error, then swaps aimed at the largest error; the best start wins. Deterministic for a given
    generator (no time limit), so the lottery depends only on the inputs.
    """
    k = len(frac)
    if extra <= 0 or k == 0:
        return np.zeros(k, dtype=np.int64)
    if extra >= k:
        return np.ones(k, dtype=np.int64)
    gram = a.T @ a
    best: tuple[float, float, np.ndarray] | None = None
    for _ in range(ROUNDING_STARTS):
        r = _systematic(frac, extra, rng)
        _descend_l2(gram, a.T @ (a @ (r - frac)), r)
        d = a @ (r - frac)
        _polish_max(a, d, r)
        score = (float(np.abs(d).max()), float(d @ d))
        if best is None or score < best[:2]:
            best = (score[0], score[1], r)
    assert best is not None
    chosen: np.ndarray = np.rint(best[2]).astype(np.int64)
    return chosen


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
    a = counts[:, has_frac] / model.counts[:, None]
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
