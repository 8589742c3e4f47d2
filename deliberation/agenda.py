"""Agenda items with server-side deadlines: every client counts down to the same instant."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panel.errors import NotFound, ValidationFailed
from panel.models import AgendaItem, Room
from panel.models.base import utcnow


def _item(session: Session, room: Room, item_id: Any) -> AgendaItem:
    if not isinstance(item_id, int) or isinstance(item_id, bool):
        raise ValidationFailed("item_id must be an agenda item id (integer).", field="item_id")
    item = session.get(AgendaItem, item_id)
    if item is None or item.room_id != room.id:
        raise NotFound(f"No agenda item {item_id} in this room.", field="item_id")
    return item


def add_item(session: Session, room: Room, title: Any, duration_s: Any) -> AgendaItem:
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        raise ValidationFailed("title is required (at most 200 characters).", field="title")
    if not isinstance(duration_s, int) or isinstance(duration_s, bool) or not 10 <= duration_s <= 6 * 3600:
        raise ValidationFailed("duration_s must be between 10 seconds and 6 hours.", field="duration_s")
    last = session.execute(select(func.max(AgendaItem.position)).where(AgendaItem.room_id == room.id)).scalar()
    item = AgendaItem(room_id=room.id, title=title.strip(), duration_s=duration_s, position=(last or 0) + 1)
    session.add(item)
    session.commit()
    return item


def start_item(session: Session, room: Room, item_id: Any) -> AgendaItem:
    """Start an item (finishing any other running one); its deadline is now + duration."""
    item = _item(session, room, item_id)
    now = utcnow()
    for other in session.execute(
        select(AgendaItem).where(AgendaItem.room_id == room.id, AgendaItem.status == "running")
    ).scalars():
        if other.id != item.id:
            other.status = "done"
    item.status = "running"
    item.started_at = now
    item.deadline_at = now + timedelta(seconds=item.duration_s)
    session.commit()
    return item


def extend_item(session: Session, room: Room, item_id: Any, seconds: Any) -> AgendaItem:
    item = _item(session, room, item_id)
    if not isinstance(seconds, int) or isinstance(seconds, bool) or not -3600 <= seconds <= 3600 or seconds == 0:
        raise ValidationFailed("seconds must be a non-zero number between -3600 and 3600.", field="seconds")
    if item.status != "running" or item.deadline_at is None:
        raise ValidationFailed("Only the running item can be extended; start it first.", field="item_id")
    item.deadline_at = item.deadline_at + timedelta(seconds=seconds)
    item.duration_s = max(1, item.duration_s + seconds)
    session.commit()
    return item


def finish_item(session: Session, room: Room, item_id: Any) -> AgendaItem:
    item = _item(session, room, item_id)
    item.status = "done"
    session.commit()
    return item
