from __future__ import annotations

import pytest

from sortition import BadDataError, parse_categories, parse_people, write_categories
from tests.sortition.conftest import fixture_bytes


def test_categories_in_file_order() -> None:
    cats = parse_categories(fixture_bytes("categories.csv"))
    assert cats.features == ("gender", "age", "region")
    assert cats.values["region"] == ("north", "south", "east")
    assert cats.quotas[("gender", "female")].min == 2
    assert cats.quotas[("gender", "female")].line == 2


def test_old_headers_and_flex_columns_accepted() -> None:
    assert parse_categories(fixture_bytes("categories_old_headers.csv")).quotas == parse_categories(
        fixture_bytes("categories.csv")
    ).quotas


def test_people_sorted_and_values_case_insensitive(small_pool) -> None:  # type: ignore[no-untyped-def]
    assert small_pool.ids == sorted(small_pool.ids)
    assert small_pool.person("3").values[0] == "female"  # "Female" in the file


def test_nationbuilder_id_column_found_by_default() -> None:
    cats = parse_categories(fixture_bytes("categories.csv"))
    pool = parse_people(fixture_bytes("people_nationbuilder.csv"), cats)
    assert len(pool.people) == 8


def test_households_from_address_columns() -> None:
    cats = parse_categories(fixture_bytes("categories.csv"))
    pool = parse_people(fixture_bytes("people.csv"), cats, address_columns=["address1", "postcode"])
    assert pool.person("1").household == pool.person("4").household
    assert pool.person("1").household != pool.person("2").household


@pytest.mark.parametrize(
    ("categories", "people", "code", "line", "column"),
    [
        ("categories_min_gt_max.csv", None, "min_greater_than_max", 3, "min"),
        ("categories.csv", "people_duplicate_id.csv", "duplicate_id", 4, "id"),
        ("categories.csv", "people_unknown_value.csv", "value_not_in_feature", 3, "age"),
        ("categories.csv", "people_mixed_encoding.csv", "bad_encoding", 4, "gender"),
    ],
)
def test_errors_name_file_line_and_column(
    categories: str, people: str | None, code: str, line: int, column: str
) -> None:
    with pytest.raises(BadDataError) as info:
        cats = parse_categories(fixture_bytes(categories), file=categories)
        assert people is not None
        parse_people(fixture_bytes(people), cats, file=people)
    err = info.value
    assert (err.code, err.line, err.column) == (code, line, column)
    assert err.file == (people or categories)
    assert f"line {line}" in str(err)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty_file"),
        ("feature,value,min\ng,a,1\n", "missing_column"),
        ("feature,value,min,max\ng,a,x,2\n", "not_a_number"),
        ("feature,value,min,max\ng,a,-1,2\n", "negative"),
        ("feature,value,min,max\ng,a,1,2\ng,A,1,2\n", "duplicate_feature_value"),
        ("feature,value,min,max\ng,,1,2\n", "empty_feature_value"),
        ("feature,feature,value,min,max\ng,g,a,1,2\n", "duplicate_column"),
        ("feature,value,min,max\n", "no_features"),
        ('feature,value,min,max\n"g,a,1,2\n', "malformed_csv"),
    ],
)
def test_bad_categories(text: str, code: str) -> None:
    with pytest.raises(BadDataError) as info:
        parse_categories(text)
    assert info.value.code == code


def test_missing_feature_column_in_people() -> None:
    cats = parse_categories(fixture_bytes("categories.csv"))
    with pytest.raises(BadDataError) as info:
        parse_people("id,gender,age\n1,female,young\n", cats)
    assert info.value.code == "missing_column" and info.value.line == 1


def test_utf8_bom_and_utf16_accepted() -> None:
    text = fixture_bytes("categories.csv").decode()
    assert parse_categories(b"\xef\xbb\xbf" + text.encode()).features == ("gender", "age", "region")
    assert parse_categories(text.encode("utf-16")).features == ("gender", "age", "region")


def test_write_categories_round_trips() -> None:
    cats = parse_categories(fixture_bytes("categories.csv"))
    assert parse_categories(write_categories(cats.quota_list())).quotas == cats.quotas


def test_identical_duplicate_rows_kept_once() -> None:
    cats = parse_categories(fixture_bytes("categories.csv"))
    pool = parse_people("id,gender,age,region\n1,female,young,north\n1,female,young,north\n", cats)
    assert pool.ids == ["1"]
