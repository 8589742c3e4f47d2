"""Pnyx sortition: fair, fast, replayable selection of citizens' panels (numpy/scipy only).

Typical use (see :mod:`sortition.lottery`)::

    cats = parse_categories(categories_bytes)
    pool = parse_people(people_bytes, cats, address_columns=["address1", "postcode"])
    result = run_lottery(pool, 40, seed="announced before the draw")
"""

from sortition import _env  # noqa: F401  (first: one BLAS thread, set before numpy loads)
from sortition.algorithms import ALGORITHMS, DEFAULT_ALGORITHM
from sortition.csvio import parse_categories, parse_people, write_categories
from sortition.diagnose import diagnose
from sortition.errors import (
    BadDataError,
    Diagnosis,
    InfeasibleQuotasError,
    QuotaBound,
    Relaxation,
    SelectionError,
    SortitionError,
)
from sortition.lottery import (
    Distribution,
    check_feasibility,
    check_inputs,
    find_distribution,
    panel_meets_quotas,
    run_lottery,
    verify_transcript,
)
from sortition.quotas import largest_remainder, parse_shares, quotas_from_shares
from sortition.replace import draw_replacements, replacement_pool
from sortition.rng import ALGORITHM_VERSION, draw_ticket, input_digest
from sortition.types import Categories, Lottery, Person, Pool, Quota, SelectionResult

__all__ = [
    "ALGORITHMS",
    "ALGORITHM_VERSION",
    "BadDataError",
    "Categories",
    "DEFAULT_ALGORITHM",
    "Diagnosis",
    "Distribution",
    "InfeasibleQuotasError",
    "Lottery",
    "Person",
    "Pool",
    "Quota",
    "QuotaBound",
    "Relaxation",
    "SelectionError",
    "SelectionResult",
    "SortitionError",
    "check_feasibility",
    "check_inputs",
    "diagnose",
    "draw_replacements",
    "draw_ticket",
    "find_distribution",
    "input_digest",
    "largest_remainder",
    "panel_meets_quotas",
    "parse_categories",
    "parse_people",
    "parse_shares",
    "quotas_from_shares",
    "replacement_pool",
    "run_lottery",
    "verify_transcript",
    "write_categories",
]
