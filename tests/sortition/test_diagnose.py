from __future__ import annotations

import pytest

from sortition import (
    InfeasibleQuotasError,
    check_feasibility,
    diagnose,
    parse_categories,
    parse_people,
    run_lottery,
)
from sortition.types import Quota
from tests.sortition.conftest import fixture_bytes, generated_pool


def _infeasible_pool():  # type: ignore[no-untyped-def]
    cats = parse_categories(fixture_bytes("categories_infeasible.csv"), file="categories_infeasible.csv")
    return parse_people(fixture_bytes("people.csv"), cats)


def test_infeasible_quotas_name_the_clash_and_the_smallest_fix() -> None:
    pool = _infeasible_pool()
    with pytest.raises(InfeasibleQuotasError) as info:
        run_lottery(pool, 5)
    diag = info.value.diagnosis
    clash = {(q.feature, q.value, q.side) for q in diag.clashing}
    assert clash == {("gender", "female", "min"), ("age", "old", "min")}
    assert diag.relaxation_cost == 1
    assert info.value.file == "categories_infeasible.csv"
    assert "female" in str(info.value)


def test_relaxation_makes_selection_possible() -> None:
    pool = _infeasible_pool()
    diag = diagnose(pool, 5)
    changed = {(r.feature, r.value): r for r in diag.relaxation}
    quotas = [
        Quota(q.feature, q.value, changed[(q.feature, q.value)].new_min, changed[(q.feature, q.value)].new_max)
        if (q.feature, q.value) in changed
        else q
        for q in pool.categories.quota_list()
    ]
    relaxed = type(pool)(pool.categories.with_quotas(quotas), pool.people)
    check_feasibility(relaxed, 5)


def test_clashing_set_is_minimal_on_generated_instance() -> None:
    pool = generated_pool(60, 10, [2, 3, 3], seed=9, tolerance=0)
    cats = pool.categories
    # force a clash: every f0 value at its exact target but the first f1 value needs everyone
    quotas = [Quota(q.feature, q.value, q.min, q.max) for q in cats.quota_list()]
    quotas = [Quota(q.feature, q.value, 10, 10) if (q.feature, q.value) == ("f1", "f1_v0") else q for q in quotas]
    pool = type(pool)(cats.with_quotas(quotas), pool.people)
    diag = diagnose(pool, 10)
    assert diag.clashing
    assert diag.relaxation_cost is not None and diag.relaxation_cost > 0


def test_households_that_make_quotas_impossible() -> None:
    pool = generated_pool(12, 8, [2], seed=1, households=6, tolerance=8)
    with pytest.raises(InfeasibleQuotasError) as info:
        check_feasibility(pool, 8)
    assert "households" in info.value.diagnosis.describe()
    assert info.value.diagnosis.relaxation_cost is None
