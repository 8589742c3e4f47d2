"""Proposals, their amendments and their versions.

A proposal keeps every text it ever had: editing adds a :class:`ProposalVersion` and bumps
``current_version``; nothing is overwritten. An amendment is a proposal whose ``parent_id`` names
the proposal it amends (in the same panel); polls can then put the original and its amendments
to the vote side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Conflict, PermissionDenied, ValidationFailed
from ..models import Proposal, ProposalVersion, User
from ..models.decisions import PROPOSAL_STATUSES
from . import audit
from .lookup import get_or_404
from .panels import get_panel
from .permissions import authorize, can

TITLE_MAX = 200
BODY_MAX = 20_000
# Who may move a proposal between statuses; authors may only withdraw their own.
STATUS_MOVES = {
    "draft": {"open", "withdrawn"},
    "open": {"adopted", "rejected", "withdrawn", "draft"},
    "adopted": {"open"},
    "rejected": {"open"},
    "withdrawn": {"draft"},
}


@dataclass(frozen=True)
class ProposalView:
    proposal: Proposal
    versions: list[ProposalVersion]
    amendments: list[Proposal]
    parent: Proposal | None

    @property
    def current(self) -> ProposalVersion:
        return next(v for v in self.versions if v.version == self.proposal.current_version)


def _clean_text(title: object, body: object) -> tuple[str, str]:
    if not isinstance(title, str) or not title.strip() or len(title.strip()) > TITLE_MAX:
        raise ValidationFailed(f"Title is required (at most {TITLE_MAX} characters).", field="title")
    if not isinstance(body, str) or not body.strip() or len(body) > BODY_MAX:
        raise ValidationFailed(f"The proposal text is required (at most {BODY_MAX} characters).", field="body")
    return title.strip(), body.strip()


def get_proposal(session: Session, proposal_id: int) -> Proposal:
    return get_or_404(session, Proposal, proposal_id, field="proposal_id", label="proposal")


def create_proposal(session: Session, user: User, panel_id: int, *, title: object, body: object,
                    parent_id: int | None = None) -> Proposal:
    """Create a proposal (or, with ``parent_id``, an amendment) with its first version."""
    get_panel(session, panel_id)
    authorize(session, user, "proposal.create", panel_id)
    clean_title, clean_body = _clean_text(title, body)
    if parent_id is not None:
        parent = session.get(Proposal, parent_id)
        if parent is None or parent.panel_id != panel_id:
            raise ValidationFailed("The proposal to amend does not exist in this panel.", field="parent_id")
        if parent.status in ("withdrawn", "rejected"):
            raise Conflict(f"A {parent.status} proposal cannot be amended.", field="parent_id")
    proposal = Proposal(panel_id=panel_id, parent_id=parent_id, author_id=user.id, title=clean_title,
                        status="open" if parent_id is not None else "draft", current_version=1)
    session.add(proposal)
    session.flush()
    session.add(ProposalVersion(proposal_id=proposal.id, version=1, body=clean_body, author_id=user.id))
    audit.record(session, "proposal.amended" if parent_id else "proposal.created", actor_id=user.id,
                 panel_id=panel_id, subject_type="proposal", subject_id=proposal.id,
                 payload={"title": clean_title, "parent_id": parent_id})
    session.commit()
    return proposal


def _may_edit(session: Session, user: User, proposal: Proposal) -> bool:
    if can(session, user, "poll.manage", proposal.panel_id):
        return True
    return proposal.author_id == user.id and can(session, user, "proposal.create", proposal.panel_id)


def revise(session: Session, user: User, proposal_id: int, *, body: object, title: object = None) -> ProposalVersion:
    """Add a new version; the old text stays readable."""
    proposal = get_proposal(session, proposal_id)
    if not _may_edit(session, user, proposal):
        raise PermissionDenied("Only the author or the panel's organizers can revise this proposal.")
    if proposal.status not in ("draft", "open"):
        raise Conflict(f"A {proposal.status} proposal can no longer be revised.", field="status")
    clean_title, clean_body = _clean_text(proposal.title if title in (None, "") else title, body)
    current = session.execute(select(ProposalVersion).where(
        ProposalVersion.proposal_id == proposal.id, ProposalVersion.version == proposal.current_version)
    ).scalar_one()
    if current.body == clean_body and clean_title == proposal.title:
        raise ValidationFailed("Nothing changed: edit the text before saving a new version.", field="body")
    version = ProposalVersion(proposal_id=proposal.id, version=proposal.current_version + 1, body=clean_body,
                              author_id=user.id)
    session.add(version)
    proposal.current_version = version.version
    proposal.title = clean_title
    session.flush()
    audit.record(session, "proposal.revised", actor_id=user.id, panel_id=proposal.panel_id,
                 subject_type="proposal", subject_id=proposal.id, payload={"version": version.version})
    session.commit()
    return version


def set_status(session: Session, user: User, proposal_id: int, status: str) -> Proposal:
    proposal = get_proposal(session, proposal_id)
    if status not in PROPOSAL_STATUSES:
        raise ValidationFailed(f"Status must be one of: {', '.join(PROPOSAL_STATUSES)}.", field="status")
    manager = can(session, user, "poll.manage", proposal.panel_id)
    author_withdraws = status == "withdrawn" and proposal.author_id == user.id
    if not manager and not author_withdraws:
        raise PermissionDenied("Only the panel's organizers and facilitators can change a proposal's status.")
    if status == proposal.status:
        return proposal
    if status not in STATUS_MOVES[proposal.status]:
        raise Conflict(f"A proposal cannot go from {proposal.status} to {status}.", field="status")
    old = proposal.status
    proposal.status = status
    audit.record(session, "proposal.status", actor_id=user.id, panel_id=proposal.panel_id,
                 subject_type="proposal", subject_id=proposal.id, payload={"from": old, "to": status})
    session.commit()
    return proposal


def view(session: Session, user: User, proposal_id: int) -> ProposalView:
    proposal = get_proposal(session, proposal_id)
    authorize(session, user, "panel.view", proposal.panel_id)
    versions = list(session.execute(select(ProposalVersion).where(ProposalVersion.proposal_id == proposal.id)
                                    .order_by(ProposalVersion.version)).scalars())
    amendments = list(session.execute(select(Proposal).where(Proposal.parent_id == proposal.id)
                                      .order_by(Proposal.id)).scalars())
    parent = session.get(Proposal, proposal.parent_id) if proposal.parent_id else None
    return ProposalView(proposal, versions, amendments, parent)


def list_proposals(session: Session, user: User, panel_id: int) -> list[Proposal]:
    """Top-level proposals of a panel (amendments are listed under their parent)."""
    get_panel(session, panel_id)
    authorize(session, user, "panel.view", panel_id)
    return list(session.execute(select(Proposal).where(Proposal.panel_id == panel_id)
                                .order_by(Proposal.parent_id.is_not(None), Proposal.id)).scalars())
