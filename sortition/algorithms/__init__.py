"""Selection algorithms, registered by id. Each takes a type model, a panel set and the lottery RNG."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from sortition.algorithms.common import PanelSet, TypeModel
from sortition.algorithms.leximin import leximin_distribution
from sortition.algorithms.maximin import maximin_distribution
from sortition.algorithms.nash import nash_distribution

Progress = Callable[[float, str], None]


class DistributionAlgorithm(Protocol):
    def __call__(
        self, model: TypeModel, panels: PanelSet, rng: np.random.Generator, progress: Progress | None = None
    ) -> tuple[np.ndarray, dict[str, int]]: ...


DISTRIBUTION_ALGORITHMS: dict[str, DistributionAlgorithm] = {
    "leximin": leximin_distribution,
    "maximin": maximin_distribution,
    "nash": nash_distribution,
}
ALGORITHMS = ("leximin", "maximin", "nash", "legacy")
DEFAULT_ALGORITHM = "leximin"
