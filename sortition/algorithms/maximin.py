"""MAXIMIN: maximise the lowest selection probability (the first stage of LEXIMIN).

Any distribution reaching the optimal minimum is returned; unlike LEXIMIN it does not go on to
raise the second-lowest probability, so people above the minimum may get less than they could.
The relaxed LEXIMIN point's minimum bounds the optimum from above, so column generation stops as
soon as it reaches that bound (no final MILP needed to prove optimality then).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sortition.algorithms.common import PanelSet, TypeModel
from sortition.algorithms.leximin import ColumnGeneration
from sortition.algorithms.relaxation import warm_start

WARM_SAMPLES = 200


def maximin_distribution(
    model: TypeModel,
    panels: PanelSet,
    rng: np.random.Generator,
    progress: Callable[[float, str], None] | None = None,
) -> tuple[np.ndarray, dict[str, int]]:
    """A distribution over ``panels`` (extended in place) maximising the minimum probability."""
    active, target, complete = warm_start(model, panels, rng, min(WARM_SAMPLES, 2 * model.num_types))
    cg = ColumnGeneration(model, panels, active)
    # The relaxed minimum bounds the optimum from above once the relaxation's first stage is solved.
    bound = float((target / model.counts)[active].min()) if target is not None and complete else np.inf
    sol = cg.optimise(lambda s: s.z >= bound - 1e-12)
    x = np.clip(sol.x, 0.0, None)
    return x / x.sum(), {"panels_generated": len(panels), "types": model.num_types, "rounds": cg.rounds}
