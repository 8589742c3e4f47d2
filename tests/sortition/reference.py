"""Run the reference ``sortition-algorithms`` on CSV text (test-only dependency)."""

from __future__ import annotations

import csv
import io
import logging


def reference_probabilities(people_csv: str, categories_csv: str, size: int, algorithm: str) -> dict[str, float]:
    """Per-person probabilities of the reference's LEXIMIN (Gurobi) or MAXIMIN (HiGHS)."""
    from sortition_algorithms import Settings
    from sortition_algorithms.committee_generation import find_distribution_leximin, find_distribution_maximin
    from sortition_algorithms.features import read_in_features
    from sortition_algorithms.people import read_in_people
    from sortition_algorithms.utils import set_random_provider

    set_random_provider(12345)  # its initial committees are random; seed them for repeatable tests
    logging.getLogger("sortition_algorithms").setLevel(logging.WARNING)
    fr = csv.DictReader(io.StringIO(categories_csv))
    features, _, _ = read_in_features(list(fr.fieldnames or []), list(fr), size)
    pr = csv.DictReader(io.StringIO(people_csv))
    people, _ = read_in_people(list(pr.fieldnames or []), list(pr), features, Settings(id_column="id", columns_to_keep=[]))
    find = find_distribution_leximin if algorithm == "leximin" else find_distribution_maximin
    committees, probs, _ = find(features, people, size, [])
    out = dict.fromkeys(people, 0.0)
    for committee, p in zip(committees, probs, strict=True):
        for pid in committee:
            out[pid] += p
    return out
