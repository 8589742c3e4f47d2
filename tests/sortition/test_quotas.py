from __future__ import annotations

import pytest

from sortition import BadDataError, largest_remainder, parse_shares, quotas_from_shares
from tests.sortition.conftest import fixture_bytes


def test_largest_remainder() -> None:
    assert largest_remainder([0.5, 0.3, 0.2], 7) == [4, 2, 1]
    assert sum(largest_remainder([1, 1, 1], 10)) == 10
    with pytest.raises(BadDataError):
        largest_remainder([0, 0], 3)


def test_tolerance_seats_and_fraction() -> None:
    q = quotas_from_shares({"g": {"f": 0.5, "m": 0.5}}, 10, tolerance=1)
    assert [(x.min, x.max) for x in q] == [(4, 6), (4, 6)]
    q = quotas_from_shares({"g": {"f": 0.5, "m": 0.5}}, 10, tolerance=0.2)
    assert [(x.min, x.max) for x in q] == [(4, 6), (4, 6)]


def test_nested_countries_add_up_to_their_region() -> None:
    shares, nested = parse_shares(fixture_bytes("shares_nested.csv"))
    quotas = quotas_from_shares(shares, 40, tolerance=0, nested=nested)
    target = {(q.feature, q.value): q.min for q in quotas}
    assert sum(v for (f, _), v in target.items() if f == "region") == 40
    for region, countries in {"Africa": ["Nigeria", "Egypt", "Kenya"], "Asia": ["India", "China", "Japan"]}.items():
        assert sum(target[("country", c)] for c in countries) == target[("region", region)]


def test_bad_share_names_line() -> None:
    with pytest.raises(BadDataError) as info:
        parse_shares("feature,value,share\ng,f,abc\n")
    assert info.value.line == 2 and info.value.column == "share"
