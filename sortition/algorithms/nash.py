"""Maximum Nash welfare: maximise the sum over people of log(selection probability).

Column generation again: on the current panels the concave objective is maximised by the EM
fixed-point update ``x_P <- x_P * grad_P / N`` (monotone, keeps x a distribution); the gradient
weights ``1/p_t`` then price a new panel with the MILP, until no panel has a gradient above N.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sortition.algorithms.common import PanelSet, TypeModel, best_panel, initial_panels

EM_STEPS = 100
MAX_PANELS_ADDED = 200
TOLERANCE = 1e-4


def nash_distribution(
    model: TypeModel,
    panels: PanelSet,
    rng: np.random.Generator,
    progress: Callable[[float, str], None] | None = None,
) -> tuple[np.ndarray, dict[str, int]]:
    """A distribution over ``panels`` (extended in place) maximising Nash welfare."""
    active = initial_panels(model, panels, rng)
    n = np.where(active, model.counts, 0).astype(float)
    total = n.sum()
    x = np.full(len(panels), 1.0 / len(panels))
    rounds = 0
    while rounds < MAX_PANELS_ADDED:
        rounds += 1
        m = panels.matrix()
        for _ in range(EM_STEPS):
            p = np.asarray(m @ x).ravel()
            ratio = np.divide(n, p, out=np.zeros_like(p), where=p > 0)
            x = x * np.asarray(m.T @ ratio).ravel() / total
            x /= x.sum()
        p = np.asarray(m @ x).ravel()
        weights = np.divide(1.0, p, out=np.zeros_like(p), where=(p > 0) & active)
        c = best_panel(model, weights)
        if c is None or float(weights @ c) <= total * (1 + TOLERANCE) or not panels.add(c):
            break
        x = np.append(x * (1 - 1e-2), 1e-2)
        if progress is not None:
            progress(rounds / MAX_PANELS_ADDED, f"{len(panels)} panels")
    return x, {"panels_generated": len(panels), "types": model.num_types, "rounds": rounds}
