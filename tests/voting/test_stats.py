"""Population-weighted support and its seeded stratified bootstrap interval."""

from __future__ import annotations

import numpy as np
import pytest

from voting import VotingError
from voting.stats import stratum_weights, weighted_support


def test_weights_are_population_over_panel_share() -> None:
    weights, missing = stratum_weights(["a", "a", "a", "b"], {"a": 0.5, "b": 0.5, "c": 0.0})
    assert weights == pytest.approx({"a": 0.5 / 0.75, "b": 0.5 / 0.25})
    assert missing == ()


def test_weighted_estimate_and_interval() -> None:
    # Panel over-represents stratum a (who all support); population is half b (who all oppose).
    support = [1] * 30 + [0] * 10
    strata = ["a"] * 30 + ["b"] * 10
    r = weighted_support(support, strata, {"a": 0.5, "b": 0.5}, seed=1)
    assert r.raw == pytest.approx(0.75)
    assert r.estimate == pytest.approx(0.5)
    assert r.low == pytest.approx(0.5) and r.high == pytest.approx(0.5)  # no within-stratum variance
    assert r == weighted_support(support, strata, {"a": 0.5, "b": 0.5}, seed=1)


def test_interval_covers_estimate_and_narrows_with_n() -> None:
    rng = np.random.default_rng(0)
    small = rng.random(60) < 0.6
    big = rng.random(2000) < 0.6
    r1 = weighted_support(small, ["x"] * 60, {"x": 1.0}, seed=2)
    r2 = weighted_support(big, ["x"] * 2000, {"x": 1.0}, seed=2)
    assert r1.low <= r1.estimate <= r1.high
    assert (r2.high - r2.low) < (r1.high - r1.low)


def test_non_binary_support_and_missing_strata() -> None:
    r = weighted_support([0.2, 0.4, 1.0], ["a", "a", "b"], {"a": 0.25, "b": 0.25, "c": 0.5}, replicates=500)
    assert r.estimate == pytest.approx(0.5 * 0.3 + 0.5 * 1.0)
    assert r.missing_strata == ("c",)
    assert r.to_dict()["ci"] == [r.low, r.high]


@pytest.mark.parametrize(
    ("support", "strata", "shares"),
    [
        ([1, 0], ["a"], {"a": 1.0}),
        ([1], ["z"], {"a": 1.0}),
        ([], [], {"a": 1.0}),
        ([1], ["a"], {"a": 0.0}),
        ([float("nan")], ["a"], {"a": 1.0}),
    ],
)
def test_bad_input(support: list[int], strata: list[str], shares: dict[str, float]) -> None:
    with pytest.raises(VotingError):
        weighted_support(support, strata, shares)
