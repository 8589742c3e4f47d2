"""Typed values passed in and out of the library (plain frozen dataclasses, no behaviour beyond lookups)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Quota:
    """Bounds on how many panel members have ``value`` for ``feature`` (``line`` in the categories file)."""

    feature: str
    value: str
    min: int
    max: int
    line: int | None = None


@dataclass(frozen=True)
class Categories:
    """Features, their values (in file order) and one quota per feature value."""

    features: tuple[str, ...]
    values: dict[str, tuple[str, ...]]
    quotas: dict[tuple[str, str], Quota]
    file: str = "categories"

    def canonical_value(self, feature: str, raw: str) -> str | None:
        """The spelling used in the categories file for ``raw`` (matched case-insensitively), or None."""
        wanted = raw.strip().lower()
        for value in self.values[feature]:
            if value.lower() == wanted:
                return value
        return None

    def quota_list(self) -> list[Quota]:
        return [self.quotas[(f, v)] for f in self.features for v in self.values[f]]

    def with_quotas(self, quotas: list[Quota]) -> Categories:
        return Categories(
            features=self.features,
            values=self.values,
            quotas={(q.feature, q.value): q for q in quotas},
            file=self.file,
        )


@dataclass(frozen=True)
class Person:
    """One volunteer: ``values`` follow ``Categories.features``; ``household`` is the address key or None."""

    id: str
    values: tuple[str, ...]
    household: tuple[str, ...] | None = None
    line: int | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Pool:
    """The volunteers (sorted by id, so results never depend on row order) and their categories."""

    categories: Categories
    people: tuple[Person, ...]
    address_columns: tuple[str, ...] = ()
    file: str = "people"

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.people]

    def person(self, person_id: str) -> Person:
        for p in self.people:
            if p.id == person_id:
                return p
        raise KeyError(person_id)


@dataclass(frozen=True)
class Lottery:
    """A uniform lottery: ticket ``i`` (0-based) selects ``panels[j]`` where ``j`` is found by ``copies``."""

    panels: tuple[tuple[str, ...], ...]
    copies: tuple[int, ...]

    @property
    def size(self) -> int:
        return sum(self.copies)

    def panel_for_ticket(self, ticket: int) -> tuple[str, ...]:
        if not 0 <= ticket < self.size:
            raise IndexError(ticket)
        for panel, count in zip(self.panels, self.copies, strict=True):
            if ticket < count:
                return panel
            ticket -= count
        raise IndexError(ticket)  # pragma: no cover - guarded above

    def probabilities(self) -> dict[str, float]:
        out: dict[str, float] = {}
        m = self.size
        for panel, count in zip(self.panels, self.copies, strict=True):
            for pid in panel:
                out[pid] = out.get(pid, 0.0) + count / m
        return out


@dataclass(frozen=True)
class SelectionResult:
    """Everything a lottery produced; ``transcript()`` is what gets published for replay."""

    panel: tuple[str, ...]
    probabilities: dict[str, float]
    min_probability: float
    algorithm: str
    algorithm_version: str
    seed: str
    ticket: int
    lottery: Lottery
    input_digest: str
    size: int
    seconds: float
    max_rounding_change: float
    stats: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The CLI's JSON: the DESIGN.md contract plus ticket and digest fields."""
        return {
            "panel": list(self.panel),
            "probabilities": self.probabilities,
            "min_probability": self.min_probability,
            "algorithm": self.algorithm,
            "seed": self.seed,
            "seconds": self.seconds,
            "ticket": self.ticket,
            "lottery_size": self.lottery.size,
            "input_digest": self.input_digest,
            "algorithm_version": self.algorithm_version,
            "size": self.size,
            "max_rounding_change": self.max_rounding_change,
            "stats": self.stats,
        }

    def transcript(self) -> dict[str, Any]:
        """The published record: inputs' digest, seed, algorithm, probabilities, full lottery and ticket."""
        data = self.summary()
        data["lottery"] = [
            {"panel": list(p), "copies": c} for p, c in zip(self.lottery.panels, self.lottery.copies, strict=True)
        ]
        return data
