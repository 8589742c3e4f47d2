"""URL converters shared by every blueprint."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

# Database ids are signed 64-bit (PostgreSQL BIGINT, SQLite INTEGER); anything larger cannot
# name a row, and passing it to the driver raises OverflowError (a 500). Refuse it at routing: 404.
MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """``<int:…>`` limited to the range a database id can take."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # type: ignore[no-untyped-def]  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                         signed=signed)
