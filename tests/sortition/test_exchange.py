"""Exchanges (panel moves that keep every quota count) and the face of the quota polytope."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sortition.algorithms.common import PanelSet, build_type_model, face_of
from sortition.algorithms.exchange import apply_move, exchange_index, exchange_moves
from sortition.algorithms.leximin import leximin_distribution
from sortition.algorithms.relaxation import relaxed_leximin, sample_panel
from tests.sortition.conftest import generated_pool


def _model(seed: int, features: list[int], pool: int = 300, size: int = 24):
    return build_type_model(generated_pool(pool, size, features, seed=seed), size)


def _a_panel(model, rng):
    target, _ = relaxed_leximin(model, np.ones(model.num_types, dtype=bool))
    for _ in range(50):
        c = sample_panel(model, target, rng)
        if c is not None:
            return c
    raise AssertionError("no panel sampled")


def _brute_force(model, weights, c, min_gain):
    """Every improving exchange by direct enumeration of pairs of members and traded feature sets."""
    features = model.value_rows
    by_values = {tuple(v): t for t, v in enumerate(features)}
    f = features.shape[1]
    found = {}
    present = np.flatnonzero(c > 0)
    for a, b in itertools.combinations(present, 2):
        for k in range(1, f):
            for traded in itertools.combinations(range(f), k):
                a2 = tuple(features[b][j] if j in traded else features[a][j] for j in range(f))
                b2 = tuple(features[a][j] if j in traded else features[b][j] for j in range(f))
                if a2 not in by_values or b2 not in by_values:
                    continue
                move = (int(a), int(b), by_values[a2], by_values[b2])
                n = apply_move(c, np.array(move))
                if (n > model.counts).any():
                    continue
                gain = float(weights @ n - weights @ c)
                if gain > min_gain:
                    found[n.tobytes()] = gain
    return found


@pytest.mark.parametrize("seed,features", [(1, [2, 3, 4]), (2, [2, 5, 3, 2]), (3, [3, 3])])
def test_every_improving_exchange_is_found_and_keeps_the_quota_counts(seed: int, features: list[int]) -> None:
    model = _model(seed, features)
    index = exchange_index(model)
    assert index is not None
    rng = np.random.default_rng(seed)
    c = _a_panel(model, rng)
    weights = rng.random(model.num_types)
    moves = exchange_moves(index, model, weights, c, 0.0, 10**9)
    counts = np.asarray(model.quota_matrix @ c).ravel()
    got = {}
    for move in moves:
        n = apply_move(c, move)
        assert np.array_equal(np.asarray(model.quota_matrix @ n).ravel(), counts)  # every quota count kept
        assert model.meets_quotas(n) and (n >= 0).all() and (n <= model.counts).all()
        got[n.tobytes()] = float(weights @ n - weights @ c)
    gains = [got[apply_move(c, m).tobytes()] for m in moves]
    assert gains == sorted(gains, reverse=True)  # best first
    expected = _brute_force(model, weights, c, 0.0)
    assert set(got) == set(expected)
    for key, gain in expected.items():
        assert got[key] == pytest.approx(gain, abs=1e-12)


def test_limit_and_threshold() -> None:
    model = _model(5, [2, 3, 3])
    index = exchange_index(model)
    assert index is not None
    rng = np.random.default_rng(0)
    c = _a_panel(model, rng)
    weights = rng.random(model.num_types)
    every = exchange_moves(index, model, weights, c, 0.0, 10**9)
    top = exchange_moves(index, model, weights, c, 0.0, 5)
    assert len(top) == min(5, len(every))
    best = [float(weights @ apply_move(c, m)) for m in every[:5]]
    assert [float(weights @ apply_move(c, m)) for m in top] == pytest.approx(best)
    high = float(weights @ apply_move(c, every[0]) - weights @ c) if len(every) else 0.0
    assert len(exchange_moves(index, model, weights, c, high + 1e-12, 10**9)) == 0  # nothing gains more than the best


def test_no_exchanges_with_households_or_one_feature() -> None:
    households = build_type_model(generated_pool(120, 12, [2, 3], seed=4, households=30), 12)
    assert exchange_index(households) is None
    assert exchange_index(_model(6, [4])) is None


def test_face_pins_the_rows_tight_at_the_point() -> None:
    model = _model(7, [2, 5, 4, 3], pool=400, size=30)
    target, complete = relaxed_leximin(model, np.ones(model.num_types, dtype=bool))
    assert target is not None and complete
    face, pinned = face_of(model, target)
    q = np.asarray(model.quota_matrix @ target).ravel()
    tight = (np.abs(q - model.lo) < 1e-7) | (np.abs(q - model.hi) < 1e-7)
    assert pinned == int(tight.sum()) > 0
    assert np.array_equal(face.lo[tight], face.hi[tight])
    assert np.allclose(face.lo[tight], np.round(q[tight]))
    assert np.array_equal(face.lo[~tight], model.lo[~tight]) and np.array_equal(face.hi[~tight], model.hi[~tight])
    # every panel of the LEXIMIN mixture found through the face lies on that face
    panels = PanelSet(model)
    x, stats = leximin_distribution(model, panels, np.random.default_rng(0))
    assert stats["relaxation_reached"] == 1
    for c, weight in zip(panels.panels, x, strict=True):
        if weight > 1e-9:
            assert face.meets_quotas(c)
