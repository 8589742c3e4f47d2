"""Cross-checks against the Sortition Foundation's ``sortition-algorithms`` (the reference).

Its LEXIMIN needs Gurobi (the pip licence is size-limited, so small pools only); its MAXIMIN runs on
HiGHS at any size, and the LEXIMIN minimum equals the MAXIMIN optimum, so larger pools compare that.
"""

from __future__ import annotations

import csv
import io

import pytest

from sortition import find_distribution, parse_categories, parse_people, write_categories
from sortition.generate import generate_instance
from tests.sortition.reference import reference_probabilities

pytest.importorskip("sortition_algorithms")
REFERENCE_EPS = 1e-3  # the reference fixes probabilities with tolerance 5e-4


def _ours(people_csv: str, categories_csv: str, size: int) -> dict[str, float]:
    cats = parse_categories(categories_csv)
    return find_distribution(parse_people(people_csv, cats), size).probabilities


@pytest.mark.parametrize(("pool", "size", "features", "seed"), [(30, 6, [2, 3], 1), (40, 8, [2, 2, 3], 2)])
def test_same_leximin_probabilities_as_reference_gurobi(pool: int, size: int, features: list[int], seed: int) -> None:
    pytest.importorskip("gurobipy")
    inst = generate_instance(pool, size, features, seed=seed)
    ours = _ours(inst.people_csv, inst.categories_csv, size)
    # Its Gurobi LEXIMIN is not always optimal (seen twice in CI on the second case: once a minimum
    # below the optimum, once a level fixed early, so 9 of 40 people differed while ours was
    # lexicographically better): it gets up to three runs to agree; the checks below use its last.
    for _ in range(3):
        ref = reference_probabilities(inst.people_csv, inst.categories_csv, size, "leximin")
        if sum(abs(ref[p] - ours[p]) <= REFERENCE_EPS for p in ref) >= 0.9 * len(ref):
            break
    assert set(ref) == set(ours)
    # The LEXIMIN minimum is the MAXIMIN optimum: the reference's MAXIMIN (HiGHS, deterministic)
    # gives it. Its Gurobi LEXIMIN usually agrees, but was seen once in CI stopping below it (0.157
    # against an optimum of 1/6 on the second case), so that one only bounds ours from below.
    optimum = min(reference_probabilities(inst.people_csv, inst.categories_csv, size, "maximin").values())
    assert min(ours.values()) == pytest.approx(optimum, abs=REFERENCE_EPS)
    assert min(ours.values()) >= min(ref.values()) - REFERENCE_EPS
    # The reference fixes levels with a 5e-4 dual threshold on a barrier solution and, rarely, fixes
    # someone too early; whatever it returns, ours must be at least as good in the LEXIMIN order
    # (sorted vectors: the first real difference favours ours) and agree for almost everyone.
    for mine, theirs in zip(sorted(ours.values()), sorted(ref.values()), strict=True):
        if abs(mine - theirs) > REFERENCE_EPS:
            assert mine > theirs
            break
    agree = sum(abs(ref[p] - ours[p]) <= REFERENCE_EPS for p in ref)
    assert agree >= 0.9 * len(ref)


@pytest.mark.slow
@pytest.mark.parametrize(("pool", "size", "features", "seed"), [(150, 15, [2, 3, 4], 3)])
def test_leximin_minimum_equals_reference_maximin(pool: int, size: int, features: list[int], seed: int) -> None:
    inst = generate_instance(pool, size, features, seed=seed)
    ref = reference_probabilities(inst.people_csv, inst.categories_csv, size, "maximin")
    ours = _ours(inst.people_csv, inst.categories_csv, size)
    assert min(ours.values()) == pytest.approx(min(ref.values()), abs=REFERENCE_EPS)
    assert min(ours.values()) >= min(ref.values()) - 1e-6  # the reference stops within its tolerance


def test_reference_reads_our_categories_file() -> None:
    from sortition_algorithms.features import read_in_features

    inst = generate_instance(50, 10, [2, 3], seed=4)
    cats = parse_categories(inst.categories_csv)
    reader = csv.DictReader(io.StringIO(write_categories(cats.quota_list())))
    features, _, _ = read_in_features(list(reader.fieldnames or []), list(reader), 10)
    assert {f: set(v) for f, v in features.items()} == {f: set(v) for f, v in cats.values.items()}
