"""Quotas from population shares: largest-remainder targets ± a tolerance, nested regions → countries."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from sortition.errors import BadDataError
from sortition.types import Quota


def largest_remainder(shares: Sequence[float], seats: int) -> list[int]:
    """Split ``seats`` proportionally to ``shares`` (Hamilton's method; ties go to the earlier entry).

    Raises:
        BadDataError: if a share is negative or all shares are zero.
    """
    total = float(sum(shares))
    if any(s < 0 for s in shares) or total <= 0:
        raise BadDataError("shares must be non-negative and not all zero", code="bad_shares")
    exact = [s / total * seats for s in shares]
    base = [math.floor(e) for e in exact]
    left = seats - sum(base)
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[:left]:
        base[i] += 1
    return base


def _bounds(target: int, tolerance: float) -> tuple[int, int]:
    slack = math.ceil(target * tolerance) if 0 < tolerance < 1 else int(tolerance)
    return max(0, target - slack), target + slack


def quotas_from_shares(
    shares: Mapping[str, Mapping[str, float]],
    size: int,
    *,
    tolerance: float = 1,
    nested: Mapping[str, tuple[str, Mapping[str, str]]] | None = None,
) -> list[Quota]:
    """Quotas whose target is each value's largest-remainder share of ``size``.

    Args:
        shares: feature → value → population share (any non-negative scale; normalised per feature).
        size: panel size.
        tolerance: seats either side of the target (an int), or a fraction of the target if in (0, 1)
            (rounded up).
        nested: child feature → (parent feature, child value → parent value). The child's targets are
            apportioned *within* each parent's target, so countries add up to their region's seats.

    Returns:
        One :class:`Quota` per feature value, in the order given.

    Raises:
        BadDataError: bad shares, or a nested child naming an unknown parent value.
    """
    nested = nested or {}
    targets: dict[str, dict[str, int]] = {}
    for feature, values in shares.items():
        if feature in nested:
            continue
        counts = largest_remainder(list(values.values()), size)
        targets[feature] = dict(zip(values, counts, strict=True))
    for child, (parent, parent_of) in nested.items():
        if parent not in targets:
            raise BadDataError(f"parent feature {parent!r} of {child!r} has no shares", code="unknown_parent")
        child_values = shares[child]
        out: dict[str, int] = {}
        for pvalue, seats in targets[parent].items():
            kids = [v for v in child_values if parent_of.get(v) == pvalue]
            if not kids:
                continue
            for v, n in zip(kids, largest_remainder([child_values[v] for v in kids], seats), strict=True):
                out[v] = n
        for v in child_values:
            if parent_of.get(v) not in targets[parent]:
                raise BadDataError(
                    f"value {v!r} of {child!r} has unknown parent {parent_of.get(v)!r}", code="unknown_parent"
                )
        targets[child] = {v: out.get(v, 0) for v in child_values}
    result = []
    for feature, values in shares.items():
        for value in values:
            lo, hi = _bounds(targets[feature][value], tolerance)
            result.append(Quota(feature, value, lo, min(hi, size)))
    return result


def parse_shares(
    data: bytes | str, file: str = "shares.csv"
) -> tuple[dict[str, dict[str, float]], dict[str, tuple[str, dict[str, str]]]]:
    """Read ``feature,value,share[,parent_feature,parent_value]`` rows for :func:`quotas_from_shares`.

    Raises:
        BadDataError: naming file, line and column for missing columns, bad numbers or parents.
    """
    from sortition.csvio import _find, _rows, decode  # local: csvio is the heavier module

    header, body = _rows(decode(data, file), file)
    fi = _find(header, ("feature", "category"), file, "feature")
    vi = _find(header, ("value", "name"), file, "value")
    si = _find(header, ("share", "population", "count"), file, "share")
    lowered = [h.lower() for h in header]
    pfi = lowered.index("parent_feature") if "parent_feature" in lowered else None
    pvi = lowered.index("parent_value") if "parent_value" in lowered else None
    shares: dict[str, dict[str, float]] = {}
    nested: dict[str, tuple[str, dict[str, str]]] = {}
    for line, row in body:
        feature, value = row[fi], row[vi]
        if not feature:
            continue
        try:
            share = float(row[si])
        except ValueError:
            raise BadDataError(
                f"{row[si]!r} is not a number", code="not_a_number", file=file, line=line, column=header[si]
            ) from None
        if share < 0 or not math.isfinite(share):
            raise BadDataError("share must be a non-negative number", code="bad_share", file=file, line=line, column=header[si])
        shares.setdefault(feature, {})[value] = share
        if pfi is not None and pvi is not None and row[pfi]:
            parent, mapping = nested.setdefault(feature, (row[pfi], {}))
            if parent != row[pfi]:
                raise BadDataError(
                    f"feature {feature!r} has two parent features ({parent!r}, {row[pfi]!r})",
                    code="two_parents",
                    file=file,
                    line=line,
                    column=header[pfi],
                )
            mapping[value] = row[pvi]
    if not shares:
        raise BadDataError("no share rows found", code="no_shares", file=file, line=1)
    return shares, nested
