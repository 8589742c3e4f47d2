"""Inviting the selected: a citizen account, an invited membership, an invitation, a personal link
queued as mail. The citizen accepts or declines on the link's page; a decline queues a replacement
draw."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import current_app, has_request_context, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import AuthenticationFailed, Conflict, ValidationFailed
from ..models import Invitation, MagicLink, OutboxMessage, Panel, PanelMember, User, Volunteer
from ..models.base import utcnow
from . import accounts, audit
from .permissions import authorize

INVITATION_TTL_HOURS = 14 * 24
INVITATION_PATH = "/invitation/"
_TIMEZONES: set[str] = set()


def timezones() -> list[str]:
    if not _TIMEZONES:
        _TIMEZONES.update(available_timezones())
    return sorted(_TIMEZONES)


def invitation_url(token: str) -> str:
    base = current_app.config.get("BASE_URL") or (request.host_url if has_request_context() else "") or (
        f"http://127.0.0.1:{current_app.config.get('PORT', 5000)}")
    return base.rstrip("/") + INVITATION_PATH + token


def _mail_body(panel: Panel, user: User, url: str) -> str:
    return (
        f"Dear {user.name},\n\n"
        f"You have been selected by a public lottery to join the citizens' panel \"{panel.title}\".\n\n"
        f"The question: {panel.question}\n\n"
        f"Please accept or decline, and choose your language and time zone, on your personal page:\n{url}\n\n"
        f"The link is personal and works for {INVITATION_TTL_HOURS // 24} days. If you decline, another "
        "volunteer is drawn so the panel stays representative.\n"
    )


def invite_volunteers(session: Session, panel: Panel, volunteers: list[Volunteer], lottery: object,
                      actor_id: int | None) -> int:
    """Invite each volunteer in the caller's transaction; returns how many were invited."""
    lottery_id = getattr(lottery, "id", None)
    missing = [v.external_id for v in volunteers if not v.email]
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise ValidationFailed(f"These selected volunteers have no email address in the pool file: {shown}. "
                               "Add an 'email' column to the people file.", field="email", code="no_email")
    count = 0
    for vol in volunteers:
        existing = session.execute(select(Invitation.id).where(Invitation.volunteer_id == vol.id)).scalar()
        if existing:
            continue
        user = session.get(User, vol.user_id) if vol.user_id else None
        user = user or accounts.get_user_by_email(session, vol.email or "")
        if user is not None and user.role != "citizen":
            raise Conflict(f"Volunteer {vol.external_id}'s email belongs to a {user.role} account; a staff "
                           "account cannot be invited as a citizen.", field="email")
        if user is None:
            user = accounts.create_user(session, email=vol.email or "", name=vol.name or f"Volunteer {vol.external_id}",
                                        role="citizen", actor_id=actor_id, commit=False)
        member = session.execute(select(PanelMember).where(PanelMember.panel_id == panel.id,
                                                           PanelMember.user_id == user.id)).scalar_one_or_none()
        if member is not None and member.status in ("active", "accepted"):
            continue  # already seated (e.g. demo citizens)
        if member is None:
            session.add(PanelMember(panel_id=panel.id, user_id=user.id, role="citizen", status="invited",
                                    volunteer_id=vol.id))
        else:
            member.status, member.volunteer_id = "invited", vol.id
        vol.user_id, vol.status = user.id, "invited"
        inv = Invitation(panel_id=panel.id, volunteer_id=vol.id, user_id=user.id, lottery_id=lottery_id,
                         status="pending")
        session.add(inv)
        token = accounts.issue_magic_link(session, user, ttl_hours=INVITATION_TTL_HOURS, purpose="invitation",
                                          commit=False)
        session.add(OutboxMessage(to_address=user.email, user_id=user.id,
                                  subject=f"You are invited to the citizens' panel: {panel.title}"[:300],
                                  body=_mail_body(panel, user, invitation_url(token))))
        session.flush()
        audit.record(session, "invitation.sent", actor_id=actor_id, panel_id=panel.id, subject_type="invitation",
                     subject_id=inv.id, payload={"volunteer": vol.external_id, "user": user.id,
                                                  "lottery": lottery_id})
        count += 1
    return count


def invite_selected(session: Session, user: User, panel_id: int) -> int:
    """Invite everyone the published lottery selected who has no invitation yet."""
    from . import lottery as lottery_service

    authorize(session, user, "lottery.run", panel_id)
    panel = session.get(Panel, panel_id)
    lot = lottery_service.current_initial(session, panel_id)
    if panel is None or lot is None or lot.status != "published":
        raise Conflict("Publish the lottery transcript first: invitations go out once anyone can check the draw.",
                       code="lottery_not_published")
    vols = list(session.execute(select(Volunteer).where(Volunteer.panel_id == panel_id,
                                                        Volunteer.status == "selected")
                                .order_by(Volunteer.external_id)).scalars())
    if not vols:
        raise Conflict("Everyone selected has already been invited.", code="nothing_to_invite")
    n = invite_volunteers(session, panel, vols, lot, actor_id=user.id)
    session.commit()
    return n


def _link(session: Session, token: str) -> MagicLink:
    if not token or len(token) > 200:
        raise AuthenticationFailed("This invitation link is not valid.", code="link_invalid")
    link = session.execute(select(MagicLink).where(MagicLink.token_hash == accounts.hash_secret(token),
                                                   MagicLink.purpose == "invitation")).scalar_one_or_none()
    if link is None:
        raise AuthenticationFailed("This invitation link is not valid. Check you copied the whole address.",
                                   code="link_invalid")
    return link


def _invitation_for(session: Session, link: MagicLink) -> Invitation:
    """The invitation this link was issued with: the user's invitation created with the link."""
    rows = session.execute(select(Invitation).where(Invitation.user_id == link.user_id)
                           .order_by(Invitation.id.desc())).scalars().all()
    for inv in rows:
        if abs((inv.created_at - link.created_at).total_seconds()) < 60:
            return inv
    if rows:
        return rows[0]
    raise AuthenticationFailed("This invitation link is not valid.", code="link_invalid")


def view(session: Session, token: str) -> tuple[Invitation, Panel, User, bool]:
    """The invitation behind a link; the flag says whether it can still be answered."""
    link = _link(session, token)
    inv = _invitation_for(session, link)
    panel = session.get(Panel, inv.panel_id)
    user = session.get(User, inv.user_id)
    assert panel is not None and user is not None
    open_ = inv.status == "pending" and link.used_at is None and link.expires_at >= utcnow()
    return inv, panel, user, open_


def respond(session: Session, token: str, *, accept: bool, locale: str, timezone: str) -> tuple[Invitation, User]:
    """Accept or decline. A decline queues a replacement draw in the same transaction."""
    from . import lottery as lottery_service

    link = _link(session, token)
    inv = _invitation_for(session, link)
    if inv.status != "pending":
        raise Conflict(f"You have already answered this invitation ({inv.status}).", code="already_answered")
    if link.used_at is not None:
        raise AuthenticationFailed("This invitation link has already been used.", code="link_used")
    if link.expires_at < utcnow():
        raise AuthenticationFailed("This invitation link has expired. Write to the organizers for a new one.",
                                   code="link_expired")
    panel = session.get(Panel, inv.panel_id)
    user = session.get(User, inv.user_id)
    vol = session.get(Volunteer, inv.volunteer_id)
    assert panel is not None and user is not None and vol is not None
    langs = [c for c in panel.languages if c in current_app.config["LANGUAGES"]] or ["en"]
    if accept:
        if locale not in langs:
            raise ValidationFailed(f"Choose one of the panel's languages: {', '.join(langs)}.", field="locale")
        if timezone not in set(timezones()):
            raise ValidationFailed("Choose your time zone from the list (for example Africa/Nairobi).",
                                   field="timezone")
    member = session.execute(select(PanelMember).where(PanelMember.panel_id == panel.id,
                                                       PanelMember.user_id == user.id)).scalar_one_or_none()
    now = utcnow()
    inv.responded_at = now
    link.used_at = now
    if accept:
        inv.status = vol.status = "accepted"
        if member is not None:
            member.status = "accepted"
        user.locale, user.timezone, user.last_seen_at = locale, timezone, now
        audit.record(session, "invitation.accepted", actor_id=user.id, panel_id=panel.id,
                     subject_type="invitation", subject_id=inv.id,
                     payload={"volunteer": vol.external_id, "locale": locale, "timezone": timezone})
    else:
        inv.status = vol.status = "declined"
        if member is not None:
            member.status = "declined"
        audit.record(session, "invitation.declined", actor_id=user.id, panel_id=panel.id,
                     subject_type="invitation", subject_id=inv.id, payload={"volunteer": vol.external_id})
        lottery_service.request_replacement(session, panel.id, vol.external_id, actor_id=user.id)
    session.commit()
    return inv, user


def panel_invitations(session: Session, user: User, panel_id: int) -> list[tuple[Invitation, Volunteer]]:
    authorize(session, user, "pool.view", panel_id)
    rows = session.execute(select(Invitation, Volunteer).join(Volunteer, Volunteer.id == Invitation.volunteer_id)
                           .where(Invitation.panel_id == panel_id).order_by(Volunteer.external_id)).all()
    return [(i, v) for i, v in rows]
