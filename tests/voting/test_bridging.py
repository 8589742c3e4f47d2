"""Pol.is group-aware consensus and the matrix-factorisation bridging score."""

from __future__ import annotations

import numpy as np
import pytest

from voting import VotingError
from voting.bridging import bridging_scores, group_aware_consensus


def polarised_votes(seed: int = 0) -> tuple[list[tuple[int, str, str]], dict[int, str]]:
    rng = np.random.default_rng(seed)
    votes, groups = [], {}
    for v in range(160):
        g = "L" if v < 80 else "R"
        groups[v] = g
        for s in ["left", "right", "bridge"]:
            p = {"left": 0.9 if g == "L" else 0.1, "right": 0.1 if g == "L" else 0.9, "bridge": 0.9}[s]
            votes.append((v, s, "agree" if rng.random() < p else "disagree"))
    return votes, groups


def test_group_aware_consensus_formula() -> None:
    votes = [(1, "s", "agree"), (2, "s", "pass"), (3, "s", "disagree"), (3, "t", 1)]
    out = group_aware_consensus(votes, {1: "A", 2: "A", 3: "B"})
    assert out["s"] == pytest.approx((1 + 1) / (2 + 2) * (1 + 0) / (2 + 1))
    assert out["t"] == pytest.approx((1 + 0) / (2 + 0) * (1 + 1) / (2 + 1))


def test_consensus_prefers_cross_group_agreement() -> None:
    votes, groups = polarised_votes()
    gac = group_aware_consensus(votes, groups)
    assert gac["bridge"] > gac["left"] and gac["bridge"] > gac["right"]


def test_bridging_score_is_deterministic_and_finds_the_bridge() -> None:
    votes, _ = polarised_votes()
    first = bridging_scores(votes, seed=3)
    assert first == bridging_scores(votes, seed=3)
    assert first["bridge"].intercept > max(first["left"].intercept, first["right"].intercept)
    assert first["bridge"].bridging and not first["left"].bridging and not first["right"].bridging
    # the polarised statements load on the factor with opposite signs
    assert first["left"].factor * first["right"].factor < 0


def test_last_reaction_counts_and_bad_reactions() -> None:
    assert group_aware_consensus([(1, "s", "disagree"), (1, "s", "agree")], {1: "A"})["s"] == pytest.approx(2 / 3)
    with pytest.raises(VotingError):
        group_aware_consensus([(1, "s", "maybe")], {1: "A"})
    with pytest.raises(VotingError):
        bridging_scores([(1, "s")])  # type: ignore[list-item]
    assert bridging_scores([(1, "s", "pass")]) == {}
