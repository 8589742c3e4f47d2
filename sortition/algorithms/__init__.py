"""Selection algorithms, registered by id. Each takes a type model, a panel set and the lottery RNG."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sortition.algorithms.common import PanelSet, TypeModel
from sortition.algorithms.leximin import leximin_distribution
from sortition.algorithms.maximin import maximin_distribution
from sortition.algorithms.nash import nash_distribution

DistributionAlgorithm = Callable[[TypeModel, PanelSet, np.random.Generator], tuple[np.ndarray, dict[str, int]]]

DISTRIBUTION_ALGORITHMS: dict[str, DistributionAlgorithm] = {
    "leximin": leximin_distribution,
    "maximin": maximin_distribution,
    "nash": nash_distribution,
}
ALGORITHMS = ("leximin", "maximin", "nash", "legacy")
DEFAULT_ALGORITHM = "leximin"
