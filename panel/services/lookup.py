"""Fetch a row by primary key or raise the service-level 404.

Every ``get_*`` service used to repeat ``session.get`` + ``is None`` + ``NotFound``; keeping the
message format in one place keeps the 404s the web and API layers show consistent: the message
names what was missing, ``field`` names the input that pointed at it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from ..errors import NotFound

T = TypeVar("T")


def get_or_404(session: Session, model: type[T], id: Any, *, field: str, label: str,
               message: str | None = None) -> T:
    """``session.get(model, id)``, or ``NotFound`` saying "No <label> with id <id>." (or ``message``)."""
    obj = session.get(model, id)
    if obj is None:
        raise NotFound(message or f"No {label} with id {id}.", field=field)
    return obj
