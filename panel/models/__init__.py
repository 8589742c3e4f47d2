"""All models, importable from one place (Alembic autogenerate sees every table through this)."""

from .accounts import LINK_ROLES, ROLES, STAFF_ROLES, ApiToken, MagicLink, Mission, User
from .audit import GENESIS, AuditEvent
from .decisions import Ballot, Poll, PollVoter, Proposal, ProposalVersion
from .deliberation import (
    AgendaItem,
    DeliberationSession,
    HandRaise,
    Message,
    Reaction,
    Room,
    RoomMember,
    SpeakingTurn,
    Statement,
)
from .followup import (
    Commitment,
    Delivery,
    OutboxMessage,
    Recommendation,
    RecommendationVersion,
    Response,
    SignOff,
    WebhookSubscription,
)
from .lottery import Invitation, Job, Lottery
from .panels import PANEL_STATUSES, Feature, FeatureValue, Panel, PanelMember, Volunteer

__all__ = [
    "AgendaItem", "ApiToken", "AuditEvent", "Ballot", "Commitment", "DeliberationSession", "Delivery",
    "Feature", "FeatureValue", "GENESIS", "HandRaise", "Invitation", "Job", "LINK_ROLES", "Lottery",
    "MagicLink", "Message", "Mission", "OutboxMessage", "PANEL_STATUSES", "Panel", "PanelMember", "Poll",
    "PollVoter", "Proposal", "ProposalVersion", "ROLES", "Reaction", "Recommendation",
    "RecommendationVersion", "Response", "Room", "RoomMember", "STAFF_ROLES", "SignOff", "SpeakingTurn",
    "Statement", "User", "Volunteer", "WebhookSubscription",
]
