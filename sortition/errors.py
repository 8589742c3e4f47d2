"""One base error for the sortition library, with subclasses the caller can map to 4xx responses.

Every error carries a machine-readable ``code``, the ``params`` used to build its message, and
where known the ``file``, ``line`` (1-based, the header is line 1) and ``column`` it refers to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SortitionError(Exception):
    """Base class of every error raised by :mod:`sortition`."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "error",
        params: dict[str, Any] | None = None,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.params: dict[str, Any] = dict(params or {})
        self.file = file
        self.line = line
        self.column = column

    def location(self) -> str:
        """``file, line N, column C`` for the parts that are known (empty string if none)."""
        parts = []
        if self.file:
            parts.append(self.file)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": type(self).__name__,
            "code": self.code,
            "message": self.message,
            "params": self.params,
            "file": self.file,
            "line": self.line,
            "column": self.column,
        }


class BadDataError(SortitionError):
    """The input files or arguments are malformed (encoding, headers, ids, values, numbers)."""


class SelectionError(SortitionError):
    """Selection could not be carried out for a reason other than bad data or infeasible quotas."""


@dataclass(frozen=True)
class QuotaBound:
    """One side of one quota: ``feature``/``value`` with ``side`` "min" or "max" and its ``bound``."""

    feature: str
    value: str
    side: str
    bound: int

    def __str__(self) -> str:
        op = ">=" if self.side == "min" else "<="
        return f"{self.feature}={self.value} {op} {self.bound}"


@dataclass(frozen=True)
class Relaxation:
    """A suggested new ``min``/``max`` for one feature value (only changed quotas are listed)."""

    feature: str
    value: str
    old_min: int
    old_max: int
    new_min: int
    new_max: int


@dataclass(frozen=True)
class Diagnosis:
    """Why the quotas cannot be met: a minimal clashing set and the smallest relaxation."""

    clashing: tuple[QuotaBound, ...]
    relaxation: tuple[Relaxation, ...] = ()
    relaxation_cost: int | None = None
    reasons: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "clashing_quotas": [
                {"feature": q.feature, "value": q.value, "side": q.side, "bound": q.bound} for q in self.clashing
            ],
            "relaxation": [r.__dict__ for r in self.relaxation],
            "relaxation_cost": self.relaxation_cost,
            "reasons": list(self.reasons),
        }

    def describe(self) -> str:
        lines = list(self.reasons)
        if self.clashing:
            lines.append("These quotas cannot all hold together: " + "; ".join(str(q) for q in self.clashing))
        if self.relaxation:
            changes = [
                f"{r.feature}={r.value}: min {r.old_min}->{r.new_min}, max {r.old_max}->{r.new_max}"
                for r in self.relaxation
            ]
            lines.append(
                f"Smallest relaxation (total change {self.relaxation_cost}): " + "; ".join(changes)
            )
        elif self.relaxation_cost is None:
            lines.append("No change of the quotas alone makes selection possible (check pool size and households).")
        return "\n".join(lines)


class InfeasibleQuotasError(SortitionError):
    """No panel of the requested size meets every quota; ``diagnosis`` says which quotas clash."""

    def __init__(self, message: str, diagnosis: Diagnosis, **kwargs: Any) -> None:
        kwargs.setdefault("code", "infeasible_quotas")
        super().__init__(message, **kwargs)
        self.diagnosis = diagnosis

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["diagnosis"] = self.diagnosis.to_dict()
        return data
