"""The one place the app talks to the ``sortition`` library.

Everything the web app needs from the library goes through these functions, so a change in the
library's signatures is a change to this file only. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

import sortition
from sortition import (
    ALGORITHM_VERSION,
    BadDataError,
    Categories,
    Diagnosis,
    InfeasibleQuotasError,
    Pool,
    Quota,
    SelectionResult,
    SortitionError,
    csvio,
)

__all__ = [
    "ALGORITHM_VERSION", "BadDataError", "Categories", "Diagnosis", "InfeasibleQuotasError", "Pool",
    "Quota", "SelectionResult", "SortitionError", "categories_csv", "check_feasibility", "decode",
    "diagnosis_dict", "input_digest", "parse_categories", "parse_people", "parse_shares", "people_csv",
    "quotas_from_shares", "replace", "replacement_pool", "select", "verify", "verify_command",
]

Shares = dict[str, dict[str, float]]
Nested = dict[str, tuple[str, dict[str, str]]]


def decode(data: bytes | str, file: str) -> str:
    """UTF-8 text of an upload; names line and column of the first byte that is not UTF-8."""
    return csvio.decode(data, file)


def parse_categories(data: bytes | str, file: str) -> Categories:
    return sortition.parse_categories(data, file=file)


def parse_people(data: bytes | str, categories: Categories, *, file: str,
                 address_columns: Sequence[str] = (), id_column: str | None = None) -> Pool:
    return sortition.parse_people(data, categories, id_column=id_column, address_columns=address_columns, file=file)


def parse_shares(data: bytes | str, file: str) -> tuple[Shares, Nested]:
    """``feature,value,share[,parent_feature,parent_value]`` rows (nested regions → countries)."""
    return sortition.parse_shares(data, file=file)


def quotas_from_shares(shares: Shares, size: int, tolerance: float, nested: Nested | None = None) -> list[Quota]:
    return sortition.quotas_from_shares(shares, size, tolerance=tolerance, nested=nested)


def categories_csv(quotas: Sequence[Quota]) -> str:
    return sortition.write_categories(quotas)


def people_csv(pool: Pool, household_column: str = "household") -> str:
    """A pool back to people CSV (id, features, and the household key when households are on)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    feats = list(pool.categories.features)
    with_households = bool(pool.address_columns)
    writer.writerow(["id", *feats, *([household_column] if with_households else [])])
    for p in pool.people:
        row = [p.id, *p.values]
        if with_households:
            row.append(p.household[0] if p.household else "")
        writer.writerow(row)
    return out.getvalue()


def input_digest(pool: Pool, size: int) -> str:
    return sortition.input_digest(pool, size)


def diagnosis_dict(diagnosis: Diagnosis) -> dict[str, Any]:
    return diagnosis.to_dict()


def check_feasibility(pool: Pool, size: int) -> Diagnosis | None:
    """None when some panel of ``size`` meets every quota (and household rule); else why not."""
    try:
        sortition.check_feasibility(pool, size)
    except InfeasibleQuotasError as e:
        return e.diagnosis
    return None


def select(pool: Pool, size: int, *, algorithm: str, seed: str) -> SelectionResult:
    """Distribution (LEXIMIN by default), rounding to a 1000-ticket lottery, ticket from the seed."""
    return sortition.run_lottery(pool, size, algorithm=algorithm, seed=seed)


def replacement_pool(pool: Pool, selected: Sequence[str], declined: Iterable[str],
                     exclude: Iterable[str] = ()) -> tuple[Pool, int]:
    """The replacement sub-problem (remaining people, quotas shrunk by who stays) and open seats."""
    return sortition.replacement_pool(pool, selected, declined, exclude)


def replace(pool: Pool, *, selected: Sequence[str], declined: Iterable[str], exclude: Iterable[str],
            algorithm: str, seed: str) -> SelectionResult:
    """Replacements for the decliners; ``result.panel`` lists only the people drawn now."""
    return sortition.draw_replacements(pool, selected, declined, seed=seed, algorithm=algorithm, exclude=exclude)


def verify(pool: Pool, transcript: dict[str, Any]) -> list[str]:
    """Replay a published transcript; an empty list means it verifies."""
    return sortition.verify_transcript(pool, transcript)


def verify_command(people: str, categories: str, transcript: str) -> str:
    """The shell command that replays a published lottery from its downloaded files."""
    return (f"python -m sortition verify \\\n    --people {people} \\\n    --categories {categories} \\\n"
            f"    --transcript {transcript}")
