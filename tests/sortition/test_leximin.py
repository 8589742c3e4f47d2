from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sortition import (
    InfeasibleQuotasError,
    Pool,
    find_distribution,
    panel_meets_quotas,
    parse_categories,
    parse_people,
)
from sortition.algorithms.common import PanelSet, build_type_model
from tests.sortition.conftest import generated_pool
from tests.sortition.exact import exact_leximin, feasible_panels


@st.composite
def tiny_instances(draw: st.DrawFn) -> tuple[Pool, int]:
    n = draw(st.integers(4, 8))
    size = draw(st.integers(1, min(4, n - 1)))
    nf = draw(st.integers(1, 3))
    people_values = [[draw(st.integers(0, 1 if f else 2)) for f in range(nf)] for _ in range(n)]
    lines = ["feature,value,min,max"]
    for f in range(nf):
        for v in range(3 if f == 0 else 2):
            lo = draw(st.integers(0, min(2, size)))
            hi = draw(st.integers(lo, size))
            lines.append(f"f{f},v{v},{lo},{hi}")
    households = draw(st.booleans())
    people = ["id," + ",".join(f"f{f}" for f in range(nf)) + ",home"]
    for i, vals in enumerate(people_values):
        home = i // 2 if households and i < 4 else 100 + i
        people.append(f"p{i}," + ",".join(f"v{v}" for v in vals) + f",h{home}")
    cats = parse_categories("\n".join(lines) + "\n")
    pool = parse_people("\n".join(people) + "\n", cats, address_columns=["home"] if households else [])
    return pool, size


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(tiny_instances())
def test_leximin_matches_brute_force(instance: tuple[Pool, int]) -> None:
    pool, size = instance
    if not feasible_panels(pool, size):
        with pytest.raises(InfeasibleQuotasError):
            find_distribution(pool, size)
        return
    dist = find_distribution(pool, size, rng=np.random.default_rng(0))
    exact = exact_leximin(pool, size)
    for pid, p in exact.items():
        assert dist.probabilities[pid] == pytest.approx(p, abs=1e-6), (pid, dist.probabilities, exact)


@pytest.mark.parametrize("algorithm", ["leximin", "maximin", "nash"])
@pytest.mark.parametrize("households", [0, 15])
def test_support_meets_quotas_and_sums_to_size(algorithm: str, households: int) -> None:
    pool = generated_pool(120, 12, [2, 3, 4], seed=3, households=households)
    dist = find_distribution(pool, 12, algorithm, rng=np.random.default_rng(1))
    assert sum(dist.probabilities.values()) == pytest.approx(12, abs=1e-6)
    assert all(-1e-9 <= p <= 1 + 1e-9 for p in dist.probabilities.values())
    for counts, w in zip(dist.panels, dist.weights, strict=True):
        if w > 1e-12:
            assert dist.model.meets_quotas(counts)


def test_leximin_minimum_at_least_maximin_and_nash() -> None:
    pool = generated_pool(150, 15, [2, 3, 4, 3], seed=5)
    mins = {a: min(find_distribution(pool, 15, a).probabilities.values()) for a in ("leximin", "maximin", "nash")}
    assert mins["leximin"] == pytest.approx(mins["maximin"], abs=1e-6)
    assert mins["nash"] <= mins["leximin"] + 1e-6


def test_types_group_interchangeable_people() -> None:
    pool = generated_pool(300, 20, [2, 3], seed=2)
    model = build_type_model(pool, 20)
    assert model.num_types <= 6
    assert int(model.counts.sum()) == 300
    panels = PanelSet(model)
    assert len(panels) == 0


def test_households_at_most_one_per_address() -> None:
    from tests.sortition.conftest import fixture_bytes

    cats = parse_categories(fixture_bytes("categories.csv"))
    pool = parse_people(fixture_bytes("people.csv"), cats, address_columns=["address1", "postcode"])
    model = build_type_model(pool, 5)
    assert model.household_matrix is not None and model.household_matrix.shape[0] == 1
    dist = find_distribution(pool, 5)
    assert dist.probabilities["1"] + dist.probabilities["4"] <= 1 + 1e-9
    assert panel_meets_quotas(pool, ("1", "4", "2", "3", "5"), 5)  # two from one household is reported


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(tiny_instances())
def test_staged_leximin_matches_brute_force(instance: tuple[Pool, int]) -> None:
    """Phase 2 alone (stage by stage, no relaxation shortcut) must also give the exact LEXIMIN."""
    from sortition.algorithms.leximin import leximin_distribution
    from sortition.lottery import check_feasibility

    pool, size = instance
    if not feasible_panels(pool, size):
        return
    model = check_feasibility(pool, size)
    panels = PanelSet(model)
    x, stats = leximin_distribution(model, panels, np.random.default_rng(0), try_relaxation=False)
    assert stats["relaxation_reached"] == 0 and stats["stages"] >= 1
    type_probs = np.asarray(panels.matrix() @ x).ravel()
    exact = exact_leximin(pool, size)
    for t, members in enumerate(model.members):
        for i in members:
            assert type_probs[t] == pytest.approx(exact[pool.people[i].id], abs=1e-6)


@pytest.mark.parametrize("seed", [4, 9])
def test_both_phases_agree_on_larger_pools(seed: int) -> None:
    """The relaxation shortcut and the staged algorithm reach the same LEXIMIN probabilities."""
    from sortition.algorithms.leximin import leximin_distribution
    from sortition.lottery import check_feasibility

    pool = generated_pool(160, 16, [2, 4, 3, 3], seed=seed)
    model = check_feasibility(pool, 16)
    results = []
    for shortcut in (True, False):
        panels = PanelSet(model)
        x, _ = leximin_distribution(model, panels, np.random.default_rng(seed), try_relaxation=shortcut)
        results.append(np.sort(np.asarray(panels.matrix() @ x).ravel()))
        for counts, w in zip(panels.panels, x, strict=True):
            if w > 1e-12:
                assert model.meets_quotas(counts)
    np.testing.assert_allclose(results[0], results[1], atol=1e-6)


def test_master_lp_keeps_its_basis_between_solves() -> None:
    """Adding a panel re-solves from the last basis: few simplex iterations, same optimum as linprog."""
    from scipy.optimize import linprog

    from sortition.algorithms.lp import MasterLP

    pool = generated_pool(200, 20, [2, 3, 4], seed=8)
    model = build_type_model(pool, 20)
    rng = np.random.default_rng(3)
    from sortition.algorithms.relaxation import warm_start

    panels = PanelSet(model)
    active, _, _ = warm_start(model, panels, rng, 60)
    lp = MasterLP(model.counts, active)
    lp.add_panels(panels.panels[:-1])
    lp.solve()
    lp.add_panels(panels.panels[-1:])
    sol = lp.solve()
    assert lp.h.getInfo().simplex_iteration_count < 50
    m = panels.matrix().toarray()[active]
    k = m.shape[1]
    ref = linprog(
        np.r_[np.zeros(k), -1.0],
        A_ub=np.hstack([-m, np.ones((m.shape[0], 1))]),
        b_ub=np.zeros(m.shape[0]),
        A_eq=np.r_[np.ones(k), 0.0][None, :],
        b_eq=[1.0],
        bounds=[(0, None)] * k + [(None, None)],
        method="highs",
    )
    assert sol.z == pytest.approx(-ref.fun, abs=1e-9)
    assert float(sol.duals.sum()) == pytest.approx(1.0, abs=1e-9)  # z's column: the duals sum to 1
