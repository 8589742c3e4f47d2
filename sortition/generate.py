"""Synthetic pools for tests and benchmarks: skewed volunteers, quotas from population shares.

Volunteers over-represent some values (as real pools over-represent the educated and the old), and
quotas follow the population, so the under-represented are rare in the pool yet needed on the panel:
exactly what makes fair selection hard.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sortition.quotas import largest_remainder


@dataclass(frozen=True)
class GeneratedInstance:
    people_csv: str
    categories_csv: str
    size: int
    features: tuple[str, ...]


def generate_instance(
    pool_size: int,
    size: int,
    feature_sizes: Sequence[int],
    *,
    seed: int = 0,
    skew: float = 1.0,
    tolerance: int = 1,
    households: int = 0,
    feature_names: Sequence[str] | None = None,
) -> GeneratedInstance:
    """A random instance whose quotas come from population shares ± ``tolerance``.

    Args:
        pool_size: number of volunteers.
        size: panel size.
        feature_sizes: number of values of each feature.
        seed: seed of the generator (instances are reproducible).
        skew: log-normal spread of how much each value is over/under-represented among volunteers.
        tolerance: quotas are largest-remainder targets ± this many seats.
        households: if > 0, that many pairs of volunteers share an address (columns address, postcode).
        feature_names: names of the features (default f0, f1, ...).
    """
    rng = np.random.default_rng(seed)
    names = list(feature_names) if feature_names else [f"f{j}" for j in range(len(feature_sizes))]
    columns: list[np.ndarray] = []
    quotas: list[tuple[str, str, int, int]] = []
    for name, nv in zip(names, feature_sizes, strict=True):
        population = rng.dirichlet(np.full(nv, 3.0))
        volunteer = population * np.exp(skew * rng.normal(size=nv))
        volunteer /= volunteer.sum()
        col = rng.choice(nv, size=pool_size, p=volunteer)
        columns.append(col)
        targets = largest_remainder(list(population), size)
        available = [int((col == v).sum()) for v in range(nv)]
        lows = [min(max(0, targets[v] - tolerance), available[v]) for v in range(nv)]
        highs = [max(min(targets[v] + tolerance, available[v]), lows[v]) for v in range(nv)]
        for v in np.argsort(available)[::-1]:  # scarce values capped the maximums: let common ones absorb
            if sum(highs) >= size:
                break
            highs[v] = min(available[v], highs[v] + size - sum(highs))
        for v in range(nv):
            quotas.append((name, f"{name}_v{v}", lows[v], highs[v]))
    people = io.StringIO()
    w = csv.writer(people, lineterminator="\n")
    w.writerow(["id", *names, "address", "postcode"])
    partner = {}
    if households:
        order = rng.permutation(pool_size)
        for a, b in zip(order[: 2 * households : 2], order[1 : 2 * households : 2], strict=True):
            partner[int(b)] = int(a)
    for i in range(pool_size):
        home = partner.get(i, i)
        w.writerow([f"p{i:05d}", *(f"{n}_v{c[i]}" for n, c in zip(names, columns, strict=True)), f"{home} Main St", f"Z{home}"])
    cats = io.StringIO()
    wc = csv.writer(cats, lineterminator="\n")
    wc.writerow(["feature", "value", "min", "max"])
    wc.writerows(quotas)
    return GeneratedInstance(people.getvalue(), cats.getvalue(), size, tuple(names))
