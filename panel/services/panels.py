"""Creating, changing and listing panels and their members."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import Conflict, ValidationFailed
from ..models import PANEL_STATUSES, Panel, PanelMember, User, Volunteer
from ..models.panels import MEMBER_ROLES
from . import audit
from .lookup import get_or_404
from .permissions import authorize, can

# Allowed forward moves; organizers may also step back one stage to fix a mistake.
TRANSITIONS = {s: {PANEL_STATUSES[i + 1]} if i + 1 < len(PANEL_STATUSES) else set()
               for i, s in enumerate(PANEL_STATUSES)}
for _i, _s in enumerate(PANEL_STATUSES[1:], start=1):
    TRANSITIONS[_s].add(PANEL_STATUSES[_i - 1])

STAFF_MEMBER_ROLES = ("organizer", "facilitator", "observer")
SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(title: str) -> str:
    return SLUG_RE.sub("-", title.lower()).strip("-")[:60] or "panel"


def _unique_slug(session: Session, base: str) -> str:
    slug, n = base, 2
    while session.execute(select(Panel.id).where(Panel.slug == slug)).first():
        slug = f"{base}-{n}"
        n += 1
    return slug


def get_panel(session: Session, panel_id: int) -> Panel:
    return get_or_404(session, Panel, panel_id, field="panel_id", label="panel")


def view_panel(session: Session, user: User, panel_id: int) -> Panel:
    panel = get_panel(session, panel_id)
    authorize(session, user, "panel.view", panel.id)
    return panel


def list_panels(session: Session, user: User) -> list[Panel]:
    """Everything a user may see: all panels for roles with ``any`` scope, else their own."""
    authorize(session, user, "panel.list")
    stmt = select(Panel).order_by(Panel.created_at.desc(), Panel.id.desc())
    if not can(session, user, "panel.view", None):
        stmt = stmt.join(PanelMember).where(PanelMember.user_id == user.id)
    return list(session.execute(stmt).scalars().unique())


def _validate(title: Any, question: Any, size: Any, languages: Any) -> None:
    if title is not None and (not isinstance(title, str) or not title.strip() or len(title) > 200):
        raise ValidationFailed("Title is required (at most 200 characters).", field="title")
    if question is not None and (not isinstance(question, str) or not question.strip()):
        raise ValidationFailed("The panel's question is required.", field="question")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 10000):
        raise ValidationFailed("Size must be a whole number between 1 and 10000.", field="size")
    if languages is not None and (
        not isinstance(languages, list) or not languages
        or not all(isinstance(x, str) and 2 <= len(x) <= 10 for x in languages)
    ):
        raise ValidationFailed("Languages must be a non-empty list of language codes.", field="languages")


def create_panel(session: Session, user: User, *, title: str, question: str, size: int,
                 mandate: str = "", languages: list[str] | None = None) -> Panel:
    authorize(session, user, "panel.create")
    languages = languages or ["en"]
    _validate(title, question, size, languages)
    panel = Panel(slug=_unique_slug(session, slugify(title)), title=title.strip(), question=question.strip(),
                  mandate=(mandate or "").strip(), size=size, languages=languages, created_by_id=user.id)
    session.add(panel)
    session.flush()
    # The creator runs the panel, so they become its organizer member.
    session.add(PanelMember(panel_id=panel.id, user_id=user.id, role="organizer", status="active"))
    audit.record(session, "panel.created", actor_id=user.id, panel_id=panel.id, subject_type="panel",
                 subject_id=panel.id, payload={"title": panel.title, "size": size})
    session.commit()
    return panel


def update_panel(session: Session, user: User, panel_id: int, **fields: Any) -> Panel:
    panel = get_panel(session, panel_id)
    authorize(session, user, "panel.update", panel.id)
    _validate(fields.get("title"), fields.get("question"), fields.get("size"), fields.get("languages"))
    status = fields.pop("status", None)
    if status is not None:
        if status not in PANEL_STATUSES:
            raise ValidationFailed(f"Status must be one of: {', '.join(PANEL_STATUSES)}.", field="status")
        if status != panel.status and status not in TRANSITIONS[panel.status]:
            raise Conflict(f"A panel cannot go from {panel.status} to {status}.", field="status")
    changed: dict[str, Any] = {}
    for key in ("title", "question", "mandate", "size", "languages"):
        if key in fields and fields[key] is not None:
            value = fields[key].strip() if isinstance(fields[key], str) else fields[key]
            if getattr(panel, key) != value:
                setattr(panel, key, value)
                changed[key] = value if key != "question" else True
    if status is not None and status != panel.status:
        changed["status"] = [panel.status, status]
        panel.status = status
    if changed:
        audit.record(session, "panel.updated", actor_id=user.id, panel_id=panel.id, subject_type="panel",
                     subject_id=panel.id, payload=changed)
    session.commit()
    return panel


def add_member(session: Session, actor: User | None, panel_id: int, user: User, role: str,
               status: str = "active", volunteer_id: int | None = None, commit: bool = True) -> PanelMember:
    if actor is not None:
        authorize(session, actor, "member.manage", panel_id)
    if role not in MEMBER_ROLES:
        raise ValidationFailed(f"Member role must be one of: {', '.join(MEMBER_ROLES)}.", field="role")
    existing = session.execute(
        select(PanelMember).where(PanelMember.panel_id == panel_id, PanelMember.user_id == user.id)
    ).scalar_one_or_none()
    if existing:
        raise Conflict("This user is already a member of the panel.", field="user_id")
    member = PanelMember(panel_id=panel_id, user_id=user.id, role=role, status=status,
                        volunteer_id=volunteer_id)
    session.add(member)
    session.flush()
    audit.record(session, "panel.member_added", actor_id=actor.id if actor else None, panel_id=panel_id,
                 subject_type="user", subject_id=user.id, payload={"role": role})
    if commit:
        session.commit()
    return member


def pool_size(session: Session, panel_id: int) -> int:
    return int(session.execute(select(func.count(Volunteer.id)).where(Volunteer.panel_id == panel_id))
               .scalar_one())


def members(session: Session, panel_id: int) -> list[PanelMember]:
    return list(session.execute(
        select(PanelMember).where(PanelMember.panel_id == panel_id).order_by(PanelMember.role, PanelMember.id)
    ).scalars())
