"""The leftover-ticket choice of the transparent rounding, against brute force on tiny instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sortition.algorithms.rounding import _leftover_choice, _systematic


def _instances(count: int, seed: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    made = 0
    while made < count:
        k, types = int(rng.integers(4, 13)), int(rng.integers(2, 9))
        members = rng.integers(1, 4, size=types)
        a = rng.integers(0, 3, size=(types, k)) / members[:, None]
        extra = int(rng.integers(1, k))
        frac = rng.random(k)
        frac = frac / frac.sum() * extra
        if frac.max() < 1:
            made += 1
            yield a, frac, extra


def _error(a: np.ndarray, frac: np.ndarray, r: np.ndarray) -> float:
    return float(np.abs(a @ (r - frac)).max())


def test_local_search_is_near_the_exact_optimum() -> None:
    exact, worst_gap, systematic_gap = 0, 0.0, 0.0
    cases = list(_instances(60, seed=5))
    for n, (a, frac, extra) in enumerate(cases):
        r = _leftover_choice(a, frac, extra, np.random.default_rng(n))
        assert set(np.unique(r)) <= {0, 1} and r.sum() == extra
        best = min(
            _error(a, frac, np.isin(np.arange(len(frac)), c).astype(float))
            for c in itertools.combinations(range(len(frac)), extra)
        )
        gap = _error(a, frac, r) - best
        assert gap >= -1e-9
        exact += gap < 1e-9
        worst_gap = max(worst_gap, gap)
        systematic_gap += _error(a, frac, _systematic(frac, extra, np.random.default_rng(n))) - best
    assert exact >= 0.9 * len(cases)
    assert worst_gap <= 0.5
    assert systematic_gap / len(cases) > 0.2  # the search does real work: sampling alone is far off


def test_same_generator_same_choice() -> None:
    a, frac, extra = next(_instances(1, seed=9))
    first = _leftover_choice(a, frac, extra, np.random.default_rng(3))
    again = _leftover_choice(a, frac, extra, np.random.default_rng(3))
    assert np.array_equal(first, again)


@pytest.mark.parametrize("extra", [0, 5])
def test_nothing_or_everything_left_over(extra: int) -> None:
    a = np.ones((2, 5))
    chosen = _leftover_choice(a, np.full(5, extra / 5), extra, np.random.default_rng(0))
    assert chosen.sum() == extra and chosen.dtype == np.int64


def test_systematic_sample_is_distinct_and_exact_in_count() -> None:
    frac = np.array([0.999999999, 0.5, 0.5, 0.000000001, 1.0 - 1e-12])
    r = _systematic(frac, 3, np.random.default_rng(1))
    assert r.sum() == 3 and set(np.unique(r)) <= {0.0, 1.0}
