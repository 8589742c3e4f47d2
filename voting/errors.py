"""Errors raised by the voting library.

One base class, :class:`VotingError`, with specific subclasses that carry a stable ``code``
and the parameters needed to show a precise message (line number, field name).  The web
layer maps them to 4xx responses; the CLI maps them to exit status 2.
"""

from __future__ import annotations

from typing import Any


class VotingError(Exception):
    """Base class for every error raised by :mod:`voting`."""

    code = "voting_error"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params: dict[str, Any] = params

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.params}


class BallotError(VotingError):
    """A ballot is malformed or invalid.

    Attributes:
        line: 1-based line number (JSON lines) or 1-based position (list of dicts), if known.
        field: the offending field (``"ranking"``, ``"scores.a"`` …), if known.
    """

    code = "bad_ballot"

    def __init__(self, message: str, line: int | None = None, field: str | None = None) -> None:
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{message}", line=line, field=field)
        self.line = line
        self.field = field
        self.reason = message


class UnknownMethodError(VotingError):
    """No rule is registered under this id."""

    code = "unknown_method"


class MethodInputError(VotingError):
    """The method cannot count this kind of profile, or an option is invalid (e.g. seats)."""

    code = "bad_method_input"


class TooLargeError(VotingError):
    """An exact method refuses an instance above its stated size limit."""

    code = "too_large"
