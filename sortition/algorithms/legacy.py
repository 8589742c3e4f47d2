"""The legacy greedy draw of the Sortition Foundation, for comparison.

Seats are filled one at a time: the feature value whose unmet minimum is largest relative to the
volunteers still available is served first, by a random volunteer with that value; values that
reached their maximum drop everyone who has them. Draws that end short of a minimum are retried.
Its selection probabilities are not computed but estimated: the lottery is ``m`` independent draws.
"""

from __future__ import annotations

import numpy as np

from sortition.algorithms.common import TypeModel
from sortition.errors import SelectionError

MAX_ATTEMPTS = 100


def _one_draw(model: TypeModel, rng: np.random.Generator) -> np.ndarray | None:
    q = model.quota_matrix.toarray() > 0  # rows × types
    available = model.counts.astype(np.int64).copy()
    chosen = np.zeros(model.num_types, dtype=np.int64)
    taken = np.zeros(len(model.lo), dtype=np.int64)
    hh = model.household_of
    for _ in range(model.size):
        per_row = q @ available
        need = model.lo - taken
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(need > 0, need / np.maximum(per_row, 1e-12), -np.inf)
        if np.isfinite(ratio).any() and ratio.max() > 0:
            row = int(np.argmax(ratio))
            weights = available * q[row]
        else:
            weights = available.astype(float)
        if weights.sum() <= 0:
            return None
        t = int(rng.choice(model.num_types, p=weights / weights.sum()))
        chosen[t] += 1
        available[t] -= 1
        taken += q[:, t]
        full = taken >= model.hi
        if full.any():
            available[q[full].any(axis=0)] = 0
        if hh[t] >= 0:
            available[hh == hh[t]] = 0
    return chosen if model.meets_quotas(chosen) else None


def legacy_draws(model: TypeModel, draws: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``draws`` independent legacy panels (count vectors).

    Raises:
        SelectionError: if a draw fails ``MAX_ATTEMPTS`` times in a row.
    """
    out = []
    for _ in range(draws):
        for _attempt in range(MAX_ATTEMPTS):
            c = _one_draw(model, rng)
            if c is not None:
                out.append(c)
                break
        else:
            raise SelectionError(
                f"the legacy algorithm failed {MAX_ATTEMPTS} times in a row; try leximin",
                code="legacy_failed",
                params={"attempts": MAX_ATTEMPTS},
            )
    return out
