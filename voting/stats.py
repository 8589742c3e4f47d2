"""Population-weighted support with stratified bootstrap confidence intervals.

A panel drawn by sortition over strata (region × gender × …) rarely matches the population
exactly.  Each voter of stratum ``s`` gets weight ``population_share[s] / panel_share[s]``, so
the weighted mean estimates the support the whole population would give if each stratum thought
like its panel members.  Strata with population share but nobody on the panel cannot be
represented: the shares of the present strata are renormalised and the missing ones reported.

Confidence interval: stratified percentile bootstrap — resample voters with replacement
*within* each stratum (the panel's composition is fixed by its quotas), recompute the weighted
mean, and take the (1-level)/2 and (1+level)/2 quantiles.  Randomness comes only from
``numpy.random.default_rng(seed)``, so the interval is reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .errors import VotingError


@dataclass(frozen=True)
class WeightedSupport:
    estimate: float
    low: float
    high: float
    level: float
    raw: float
    n: int
    weights: dict[str, float]
    missing_strata: tuple[str, ...]
    replicates: int
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": self.estimate,
            "ci": [self.low, self.high],
            "level": self.level,
            "raw": self.raw,
            "n": self.n,
            "weights": self.weights,
            "missing_strata": list(self.missing_strata),
            "replicates": self.replicates,
            "seed": self.seed,
        }


def stratum_weights(strata: Sequence[str], population_shares: Mapping[str, float]) -> tuple[
    dict[str, float], tuple[str, ...]
]:
    """Weight per stratum = population share / panel share (present strata renormalised)."""
    labels, counts = np.unique(np.asarray([str(s) for s in strata]), return_counts=True)
    unknown = [str(s) for s in labels if str(s) not in population_shares]
    if unknown:
        raise VotingError(f"no population share for stratum {unknown[0]!r}", field="population_shares")
    if any(v < 0 for v in population_shares.values()):
        raise VotingError("population shares must be non-negative", field="population_shares")
    present = {str(s): float(population_shares[str(s)]) for s in labels}
    total_pop = sum(present.values())
    if total_pop <= 0:
        raise VotingError("the strata on the panel have zero population share", field="population_shares")
    n = len(strata)
    weights = {s: (present[s] / total_pop) / (int(c) / n) for s, c in zip(labels.tolist(), counts, strict=False)}
    missing = tuple(sorted(s for s, v in population_shares.items() if v > 0 and s not in present))
    return weights, missing


def weighted_support(
    support: ArrayLike,
    strata: Sequence[str],
    population_shares: Mapping[str, float],
    *,
    level: float = 0.95,
    replicates: int = 2000,
    seed: int = 0,
) -> WeightedSupport:
    """Population-weighted mean of ``support`` (one value in [0, 1] per voter) with a bootstrap CI.

    Raises:
        VotingError: mismatched lengths, unknown strata, empty input, or a bad level.
    """
    y = np.asarray(support, dtype=float)
    if y.ndim != 1 or y.size != len(strata) or y.size == 0:
        raise VotingError("one support value and one stratum per voter are required", field="support")
    if not np.isfinite(y).all():
        raise VotingError("support values must be finite numbers", field="support")
    if not 0 < level < 1:
        raise VotingError("level must be between 0 and 1", field="level")
    weights, missing = stratum_weights(strata, population_shares)
    labels = np.asarray([str(s) for s in strata])
    w = np.asarray([weights[s] for s in labels.tolist()])
    estimate = float(w @ y / w.sum())
    rng = np.random.default_rng(seed)
    # With per-stratum resampling, each replicate's weighted mean is Σ_s P_s · mean_s(resample),
    # P_s = renormalised population share: only the stratum means need resampling.
    total = np.zeros(replicates)
    for s in sorted(weights):
        members = y[labels == s]
        pop_share = weights[s] * members.size / y.size
        total += pop_share * _resampled_means(rng, members, replicates)
    alpha = (1 - level) / 2
    low, high = np.quantile(total, [alpha, 1 - alpha])
    return WeightedSupport(estimate, float(low), float(high), level, float(y.mean()), int(y.size), weights,
                           missing, replicates, seed)


def _resampled_means(rng: np.random.Generator, members: np.ndarray, replicates: int) -> np.ndarray:
    """Means of ``replicates`` resamples (with replacement) of ``members``."""
    n = members.size
    if np.isin(members, (0.0, 1.0)).all():
        # Resampling n binary values = a Binomial(n, p) count of ones: same distribution, O(1) each.
        return rng.binomial(n, float(members.mean()), size=replicates) / n
    out = np.empty(replicates)
    step = max(1, 5_000_000 // n)
    for start in range(0, replicates, step):
        stop = min(replicates, start + step)
        out[start:stop] = members[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    return out
