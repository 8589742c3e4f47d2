"""Fixtures for the sortition tests: the CSV fixtures and small generated pools."""

from __future__ import annotations

from pathlib import Path

import pytest

from sortition import Pool, parse_categories, parse_people
from sortition.generate import generate_instance

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def generated_pool(pool_size: int, size: int, features: list[int], seed: int = 0, **kwargs: object) -> Pool:
    inst = generate_instance(pool_size, size, features, seed=seed, **kwargs)  # type: ignore[arg-type]
    cats = parse_categories(inst.categories_csv)
    address = ["address", "postcode"] if kwargs.get("households") else []
    return parse_people(inst.people_csv, cats, address_columns=address)


@pytest.fixture
def small_pool() -> Pool:
    cats = parse_categories(fixture_bytes("categories.csv"), file="categories.csv")
    return parse_people(fixture_bytes("people.csv"), cats, file="people.csv")


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
