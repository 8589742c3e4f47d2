"""The minimum-norm-point phase of LEXIMIN (``sortition/algorithms/minnorm.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog, nnls

import sortition.algorithms.leximin as leximin_module
from sortition.algorithms.common import PanelSet, build_type_model, face_of
from sortition.algorithms.exchange import (
    all_exchanges,
    apply_move,
    best_exchanges,
    exchange_index,
    exchange_moves,
)
from sortition.algorithms.leximin import leximin_distribution
from sortition.algorithms.minnorm import Corral, reach
from sortition.algorithms.relaxation import relaxed_leximin, sample_panel
from tests.sortition.conftest import generated_pool


def _affine_minimiser(points: list[np.ndarray]) -> np.ndarray:
    """Weights (sum 1) of the point of the points' affine hull nearest to the origin, by the KKT system."""
    v = np.stack(points, axis=1)
    k = v.shape[1]
    kkt = np.block([[v.T @ v, np.ones((k, 1))], [np.ones((1, k)), np.zeros((1, 1))]])
    return np.linalg.solve(kkt, np.r_[np.zeros(k), 1.0])[:k]


def test_corral_keeps_its_factor_and_affine_minimiser_through_inserts_and_deletes() -> None:
    rng = np.random.default_rng(0)
    m = 30
    corral = Corral(m, 4, sigma=1.0)  # small capacity: it has to grow too
    points: list[np.ndarray] = []
    for step in range(300):
        if corral.k < 3 or (corral.k < 20 and rng.random() < 0.6):
            v = rng.normal(size=m)
            assert corral.insert(v, step)
            points.append(v)
        else:
            j = int(rng.integers(corral.k))
            corral.delete(j)
            points.pop(j)
        k = corral.k
        assert k == len(points) == len(corral.tags) == len(corral.members)
        v = np.stack(points, axis=1)
        r = corral.R[:k, :k]
        assert np.allclose(np.triu(r), r)
        np.testing.assert_allclose(r.T @ r, v.T @ v + 1.0, atol=1e-8)
        np.testing.assert_allclose(corral.affine(), _affine_minimiser(points), atol=1e-8)


def test_corral_refuses_an_affinely_dependent_point() -> None:
    corral = Corral(3, 8, sigma=1.0)
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    assert corral.insert(a, 0) and corral.insert(b, 1)
    assert not corral.insert(0.25 * a + 0.75 * b, 2)  # on the line through a and b
    assert corral.k == 2 and corral.tags == [0, 1]


def test_settle_finds_the_nearest_point_of_the_hull() -> None:
    """Minor cycles give the minimum-norm point of the hull, checked against NNLS with a heavy sum row."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        m, k = 6, 5
        pts = rng.normal(size=(m, k)) + 1.5  # hull away from the origin: the nearest point is on its boundary
        corral = Corral(m, 8, sigma=1.0)
        corral.insert(pts[:, 0], 0)
        corral.lam[0] = 1.0
        x = corral.point()
        for _ in range(50):  # Wolfe's major cycles, the oracle being the best of the k points
            j = int(np.argmin(pts.T @ x))
            if float(x @ x - x @ pts[:, j]) <= 1e-12 or j in corral.members:
                break
            assert corral.insert(pts[:, j], j)
            x = corral.settle()
        # the result is optimal among all k points: no point is further along -x than x itself
        assert np.all(pts.T @ x >= x @ x - 1e-9)
        big = 1e4
        weights, _ = nnls(np.vstack([pts, big * np.ones((1, k))]), np.r_[np.zeros(m), big])
        np.testing.assert_allclose(x, pts @ weights, atol=1e-5)


@pytest.mark.parametrize("seed,features", [(1, [2, 3, 4]), (2, [2, 5, 3, 2])])
def test_cached_exchange_lists_give_the_same_moves(seed: int, features: list[int]) -> None:
    model = build_type_model(generated_pool(300, 24, features, seed=seed), 24)
    index = exchange_index(model)
    assert index is not None
    rng = np.random.default_rng(seed)
    target, _ = relaxed_leximin(model, np.ones(model.num_types, dtype=bool))
    c = next(p for p in (sample_panel(model, target, rng) for _ in range(50)) if p is not None)
    listed = all_exchanges(index, model, c)
    assert not any({int(m[0]), int(m[1])} == {int(m[2]), int(m[3])} for m in listed)  # no move that changes nothing
    for _ in range(5):
        weights = rng.normal(size=model.num_types)
        for min_gain, limit in ((1e-9, 10**9), (1e-9, 7), (0.3, 10**9), (0.3, 3)):
            direct = exchange_moves(index, model, weights, c, min_gain, limit)
            cached = best_exchanges(listed, weights, min_gain, limit)
            gains = [float(weights @ apply_move(c, m) - weights @ c) for m in direct]
            assert [float(weights @ apply_move(c, m) - weights @ c) for m in cached] == pytest.approx(gains)
            if limit > len(direct):
                assert {apply_move(c, m).tobytes() for m in cached} == {apply_move(c, m).tobytes() for m in direct}


def _face_and_goal(seed: int, features: list[int], pool: int = 300, size: int = 24):
    model = build_type_model(generated_pool(pool, size, features, seed=seed), size)
    target, complete = relaxed_leximin(model, np.ones(model.num_types, dtype=bool))
    assert target is not None and complete
    face, _ = face_of(model, target)
    active = target > 1e-9
    goal = np.where(active, target / model.counts, 0.0)
    rng = np.random.default_rng(seed)
    start = [c for c in (sample_panel(face, target, rng) for _ in range(60)) if c is not None]
    return model, face, goal, active, start


@pytest.mark.parametrize("seed,features", [(11, [2, 3, 4]), (12, [2, 5, 3, 2]), (13, [3, 4, 2])])
def test_reach_gives_a_mixture_of_face_panels_equal_to_the_goal(seed: int, features: list[int]) -> None:
    model, face, goal, active, start = _face_and_goal(seed, features)
    index = exchange_index(model)
    assert index is not None and start
    result = reach(model, face, index, goal, active, start, stop=1e-9)
    # the relaxed point is itself exact only to the LP's tolerance (~1e-9 per level), so the nearest
    # mixture may stop a hair short of it; LEXIMIN accepts up to 1e-6
    assert result.shortfall <= 1e-7
    assert result.weights.sum() == pytest.approx(1.0) and (result.weights > 0).all()
    for c in result.panels:
        assert face.meets_quotas(c) and model.meets_quotas(c)
    p = sum(w * c / model.counts for w, c in zip(result.weights, result.panels, strict=True))
    np.testing.assert_allclose(p[active], goal[active], atol=1e-7)


def test_reach_reports_a_goal_out_of_reach() -> None:
    """A goal outside the hull of the panels: reach stops short and says so (exact pricing proves it)."""
    model, face, goal, active, start = _face_and_goal(21, [2, 3, 3], pool=120, size=12)
    index = exchange_index(model)
    assert index is not None
    # push the goal beyond what any mixture gives: the most selectable type asks for more than certainty allows
    t = int(np.argmax(goal))
    unreachable = goal.copy()
    unreachable[t] = 1.0 / model.counts[t] * min(model.counts[t], model.size) + 0.5
    result = reach(model, face, index, unreachable, active, start, stop=1e-9)
    assert not result.reached and result.shortfall > 1e-3
    # and the LP over every panel on the face agrees: the goal is out of reach
    panels = PanelSet(model)
    for c in result.panels + start:
        panels.add(c)
    a = panels.matrix().toarray()[active]
    res = linprog(np.zeros(a.shape[1]), A_ub=-a, b_ub=-unreachable[active], A_eq=np.ones((1, a.shape[1])), b_eq=[1.0])
    assert res.status == 2


@pytest.mark.parametrize("seed", [4, 9])
def test_min_norm_and_lp_phase_one_agree(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Phase 1 by the minimum-norm point and by LP column generation reach the same probabilities."""
    from sortition.lottery import check_feasibility

    pool = generated_pool(400, 30, [2, 5, 3, 4], seed=seed)
    model = check_feasibility(pool, 30)
    results = []
    for use in (True, False):
        monkeypatch.setattr(leximin_module, "USE_MIN_NORM", use)
        panels = PanelSet(model)
        x, stats = leximin_distribution(model, panels, np.random.default_rng(seed))
        assert stats["relaxation_reached"] == 1
        assert ("min_norm_steps" in stats) is use
        assert len(x) == len(panels) and x.sum() == pytest.approx(1.0)
        for counts, w in zip(panels.panels, x, strict=True):
            if w > 1e-12:
                assert model.meets_quotas(counts)
        results.append(np.asarray(panels.matrix() @ x).ravel())
    np.testing.assert_allclose(results[0], results[1], atol=1e-6)
