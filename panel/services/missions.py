"""The 193 missions of UN member states, their desk officers, and invitations by personal link.

The member list lives in ``panel/data/un_member_states.csv`` (ISO 3166-1 alpha-3 code, short name,
UN regional group, M49 geoscheme region). Kiribati, which belongs to no electoral group, is listed
with the Asia-Pacific States; the United States, an observer of WEOG, with the Western European
and other States — the groups the UN Secretariat uses for them in practice.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationFailed
from ..models import Mission, User
from . import accounts, audit
from .lookup import get_or_404
from .permissions import authorize

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "un_member_states.csv"
UN_REGIONAL_GROUPS = ("African States", "Asia-Pacific States", "Eastern European States",
                      "Latin American and Caribbean States", "Western European and other States")


@dataclass(frozen=True)
class MemberState:
    iso3: str
    name: str
    group: str
    geo_region: str


@lru_cache(maxsize=1)
def member_states() -> tuple[MemberState, ...]:
    with DATA_FILE.open(newline="", encoding="utf-8") as f:
        return tuple(MemberState(r["iso3"], r["name"], r["un_regional_group"], r["geoscheme_region"])
                     for r in csv.DictReader(f))


def geo_region(iso3: str) -> str:
    for s in member_states():
        if s.iso3 == iso3:
            return s.geo_region
    return ""


def seed_missions(session: Session) -> tuple[int, int]:
    """Create or refresh one mission per member state. Idempotent; returns (created, updated)."""
    existing = {m.country_code: m for m in session.execute(select(Mission)).scalars()}
    created = updated = 0
    for s in member_states():
        name = f"Permanent Mission of {s.name}"
        m = existing.get(s.iso3)
        if m is None:
            session.add(Mission(country_code=s.iso3, name=name, region=s.group))
            created += 1
        elif m.region != s.group or m.name != name:
            m.region, m.name = s.group, name
            updated += 1
    if created or updated:
        audit.record(session, "missions.seeded", subject_type="mission", payload={"created": created,
                                                                                  "updated": updated})
    session.commit()
    return created, updated


def list_missions(session: Session, region: str | None = None) -> list[Mission]:
    stmt = select(Mission).order_by(Mission.name)
    if region:
        stmt = stmt.where(Mission.region == region)
    return list(session.execute(stmt).scalars())


def regions(session: Session) -> list[str]:
    return sorted({r for r in session.execute(select(Mission.region).distinct()).scalars()})


def get_mission(session: Session, mission_id: int) -> Mission:
    return get_or_404(session, Mission, mission_id, field="mission_id", label="mission")


def get_by_code(session: Session, code: str) -> Mission:
    m = session.execute(select(Mission).where(Mission.country_code == code.upper()[:3])).scalar_one_or_none()
    if m is None:
        raise NotFound(f"No mission with country code {code!r}.", field="country_code")
    return m


def invite_officer(session: Session, actor: User, mission_id: int, *, email: str, name: str,
                   link_base: str) -> tuple[User, str]:
    """Create (or reuse) a desk officer for a mission and mail them a personal sign-in link.

    Returns the user and the link (shown once to the inviter, as the mail may be slow)."""
    from . import notifications

    authorize(session, actor, "mission.invite")
    mission = get_mission(session, mission_id)
    user = accounts.get_user_by_email(session, email or "")
    if user is None:
        user = accounts.create_user(session, email=email, name=name, role="mission", mission_id=mission.id,
                                    actor_id=actor.id, commit=False)
    elif user.role != "mission" or user.mission_id != mission.id:
        raise ValidationFailed("This email belongs to someone who is not a desk officer of this mission.",
                               field="email")
    token = accounts.issue_magic_link(session, user, ttl_hours=72, purpose="invitation", commit=False)
    link = f"{link_base.rstrip('/')}/auth/link/{token}"
    notifications.enqueue_email(
        session, user, subject=f"Pnyx: you are invited as desk officer of {mission.name}",
        body=(f"Hello {user.name},\n\nCitizens' panels of the United Nations send their recommendations to "
              f"{mission.name} through Pnyx. Sign in with this personal link (valid 72 hours, single use):\n\n"
              f"{link}\n\nYou can ask for a new link at any time.\n"))
    audit.record(session, "mission.officer_invited", actor_id=actor.id, subject_type="mission",
                 subject_id=mission.id, payload={"user_id": user.id})
    session.commit()
    return user, link
