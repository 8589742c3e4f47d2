"""Recommendation documents: drafting, versions with diffs, sign-off, publication and delivery.

Every wording change adds a ``RecommendationVersion`` (never overwritten). Panel members sign off a
specific version, so a sign-off cannot silently carry over to changed words. Support figures are a
``support`` JSON document (schema below) that the voting integration fills from a poll result; until
then staff can attach a poll's result when one exists.

Support schema (version 1)::

    {"schema": 1, "poll_id": 3, "voters": 58,
     "overall": {"yes": 0.71, "no": 0.19, "abstain": 0.10},
     "groups": {"region": {"Africa": {"yes": .., "no": .., "abstain": .., "n": 11}, ...}, ...},
     "bridging": 0.64,
     "population_weighted": {"yes": 0.69, "ci_low": 0.61, "ci_high": 0.77, "level": 0.95}}
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import Conflict, NotFound, ValidationFailed
from ..models import (
    Delivery,
    Mission,
    Panel,
    PanelMember,
    Poll,
    Proposal,
    ProposalVersion,
    Recommendation,
    RecommendationVersion,
    SignOff,
    User,
)
from ..models.base import utcnow
from . import audit, notifications
from .lookup import get_or_404
from .permissions import authorize

SUPPORT_SCHEMA = 1
SHARES = ("yes", "no", "abstain")
MIN_GROUP = 5  # groups smaller than this are never shown separately


# --- support figures ----------------------------------------------------------------------------

def _share(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValidationFailed(f"{where} must be a number between 0 and 1.", field=where)
    return float(value)


def validate_support(data: Any) -> dict[str, Any]:
    """Check a support document and return it normalised; the error names the offending field."""
    if not isinstance(data, dict):
        raise ValidationFailed("Support figures must be a JSON object.", field="support")
    out: dict[str, Any] = {"schema": SUPPORT_SCHEMA}
    if data.get("poll_id") is not None:
        if not isinstance(data["poll_id"], int):
            raise ValidationFailed("poll_id must be an integer.", field="support.poll_id")
        out["poll_id"] = data["poll_id"]
    voters = data.get("voters")
    if voters is not None and (not isinstance(voters, int) or isinstance(voters, bool) or voters < 0):
        raise ValidationFailed("voters must be a whole number ≥ 0.", field="support.voters")
    out["voters"] = voters
    overall = data.get("overall")
    if not isinstance(overall, dict):
        raise ValidationFailed("overall shares (yes/no/abstain) are required.", field="support.overall")
    out["overall"] = {k: _share(overall.get(k, 0), f"support.overall.{k}") for k in SHARES}
    if sum(out["overall"].values()) > 1.0001:
        raise ValidationFailed("overall shares add up to more than 1.", field="support.overall")
    groups = data.get("groups") or {}
    if not isinstance(groups, dict):
        raise ValidationFailed("groups must map a feature to its values.", field="support.groups")
    out["groups"] = {}
    for feature, values in groups.items():
        if not isinstance(values, dict):
            raise ValidationFailed("each feature must map values to shares.", field=f"support.groups.{feature}")
        out["groups"][str(feature)] = {}
        for value, fig in values.items():
            where = f"support.groups.{feature}.{value}"
            if not isinstance(fig, dict):
                raise ValidationFailed("each group needs yes/no/abstain shares and n.", field=where)
            n = fig.get("n")
            if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
                raise ValidationFailed("n must be a whole number ≥ 0.", field=f"{where}.n")
            out["groups"][str(feature)][str(value)] = {
                **{k: _share(fig.get(k, 0), f"{where}.{k}") for k in SHARES}, "n": n}
    if data.get("bridging") is not None:
        out["bridging"] = _share(data["bridging"], "support.bridging")
    pw = data.get("population_weighted")
    if pw is not None:
        if not isinstance(pw, dict):
            raise ValidationFailed("population_weighted must be an object.", field="support.population_weighted")
        fig = {k: _share(pw.get(k), f"support.population_weighted.{k}") for k in ("yes", "ci_low", "ci_high")}
        if not fig["ci_low"] <= fig["yes"] <= fig["ci_high"]:
            raise ValidationFailed("the interval must contain the estimate (ci_low ≤ yes ≤ ci_high).",
                                   field="support.population_weighted")
        fig["level"] = _share(pw.get("level", 0.95), "support.population_weighted.level")
        out["population_weighted"] = fig
    return out


def public_groups(support: dict[str, Any] | None) -> dict[str, dict[str, dict[str, Any]]]:
    """Per-group figures safe to publish: groups with fewer than 5 voters (or unknown n) merged."""
    if not support:
        return {}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for feature, values in (support.get("groups") or {}).items():
        kept: dict[str, dict[str, Any]] = {}
        small_n, small = 0, {k: 0.0 for k in SHARES}
        for value, fig in values.items():
            n = fig.get("n")
            if isinstance(n, int) and n >= MIN_GROUP:
                kept[value] = fig
            elif isinstance(n, int) and n > 0:
                small_n += n
                for k in SHARES:
                    small[k] += fig[k] * n
        if small_n >= MIN_GROUP:
            kept["other (merged small groups)"] = {**{k: small[k] / small_n for k in SHARES}, "n": small_n}
        if kept:
            out[feature] = kept
    return out


def support_from_poll(poll: Poll) -> dict[str, Any] | None:
    """Support figures from a poll's stored result (the voting app's ``Poll.result``), if it has any.

    Reads the yes/no/abstain counts overall and per group (groups the tally suppressed stay out),
    the group-aware consensus on "yes" as the bridging score, and the population-weighted estimate
    of "yes" with its bootstrap interval. A part that is missing or malformed is left out.
    """
    result = poll.result or {}
    if isinstance(result.get("support"), dict) and "overall" in result["support"]:
        return validate_support({**result["support"], "poll_id": poll.id})  # already in our shape
    overall = _shares_of(result.get("scores") or result.get("counts"))
    if overall is None:
        return None
    shares, total = overall
    groups: dict[str, Any] = {}
    for feature, values in (result.get("groups") or {}).items():
        for value, fig in (values or {}).items():
            got = _shares_of(fig.get("scores")) if isinstance(fig, dict) and not fig.get("suppressed") else None
            if got is not None:
                groups.setdefault(feature, {})[value] = {**got[0], "n": int(fig.get("ballots") or got[1])}
    doc: dict[str, Any] = {"poll_id": poll.id, "voters": int(result.get("ballots") or total),
                           "overall": shares, "groups": groups}
    bridging = result.get("bridging")
    if isinstance(bridging, (int, float)):
        doc["bridging"] = bridging
    elif isinstance(bridging, dict) and isinstance((bridging.get("consensus") or {}).get("yes"), (int, float)):
        doc["bridging"] = bridging["consensus"]["yes"]
    w = result.get("weighted")
    ws = w.get("support") if isinstance(w, dict) else None
    weighted = ws.get("yes") if isinstance(ws, dict) else None
    if isinstance(weighted, dict):
        doc["population_weighted"] = {"yes": weighted.get("estimate"), "ci_low": weighted.get("low"),
                                      "ci_high": weighted.get("high"),
                                      "level": result["weighted"].get("level", 0.95)}
    elif isinstance(result.get("population_weighted"), dict):
        doc["population_weighted"] = result["population_weighted"]
    try:
        return validate_support(doc)
    except ValidationFailed:  # keep what is sound rather than refusing the whole poll
        doc.pop("bridging", None)
        doc.pop("population_weighted", None)
        return validate_support(doc)


def _shares_of(scores: Any) -> tuple[dict[str, float], int] | None:
    """yes/no/abstain counts → shares (None if the scores are not a yes/no tally)."""
    if not isinstance(scores, dict) or not any(k in scores for k in SHARES):
        return None
    try:
        counts = {k: float(scores.get(k) or 0) for k in SHARES}
    except (TypeError, ValueError):
        return None
    total = sum(counts.values())
    if total <= 0:
        return None
    return {k: counts[k] / total for k in SHARES}, int(total)


# --- documents ----------------------------------------------------------------------------------

def get(session: Session, rec_id: int) -> Recommendation:
    return get_or_404(session, Recommendation, rec_id, field="recommendation_id", label="recommendation")


def view(session: Session, user: User, rec_id: int) -> Recommendation:
    rec = get(session, rec_id)
    authorize(session, user, "recommendation.view", rec.panel_id)
    return rec


def versions(session: Session, rec_id: int) -> list[RecommendationVersion]:
    return list(session.execute(select(RecommendationVersion).where(
        RecommendationVersion.recommendation_id == rec_id).order_by(RecommendationVersion.version)).scalars())


def version(session: Session, rec_id: int, number: int) -> RecommendationVersion:
    v = session.execute(select(RecommendationVersion).where(
        RecommendationVersion.recommendation_id == rec_id, RecommendationVersion.version == number)
    ).scalar_one_or_none()
    if v is None:
        raise NotFound(f"Recommendation {rec_id} has no version {number}.", field="version")
    return v


def current(session: Session, rec: Recommendation) -> RecommendationVersion:
    return version(session, rec.id, rec.current_version)


def list_for_panel(session: Session, user: User, panel_id: int) -> list[Recommendation]:
    authorize(session, user, "recommendation.view", panel_id)
    return list(session.execute(select(Recommendation).where(Recommendation.panel_id == panel_id)
                                .order_by(Recommendation.id)).scalars())


def proposals_for_panel(session: Session, panel_id: int) -> list[Proposal]:
    return list(session.execute(select(Proposal).where(
        Proposal.panel_id == panel_id, Proposal.status.not_in(("rejected", "withdrawn")))
        .order_by(Proposal.id)).scalars())


def _clean(text: Any, field: str, *, required: bool = False, limit: int = 20000) -> str:
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ValidationFailed(f"{field} must be text.", field=field)
    text = text.replace("\r\n", "\n").strip()
    if required and not text:
        raise ValidationFailed(f"The {field} is required.", field=field)
    if len(text) > limit:
        raise ValidationFailed(f"The {field} must be at most {limit} characters.", field=field)
    return text


def create(session: Session, actor: User, panel_id: int, *, title: str, text: str, rationale: str = "",
           minority_opinions: str = "", evidence: str = "", proposal_id: int | None = None,
           poll_id: int | None = None, support: dict[str, Any] | None = None) -> Recommendation:
    get_or_404(session, Panel, panel_id, field="panel_id", label="panel")
    authorize(session, actor, "recommendation.manage", panel_id)
    title = _clean(title, "title", required=True, limit=200)
    rec = Recommendation(panel_id=panel_id, title=title, proposal_id=proposal_id, poll_id=poll_id,
                         status="draft", current_version=1,
                         support=validate_support(support) if support is not None else None)
    session.add(rec)
    session.flush()
    session.add(RecommendationVersion(
        recommendation_id=rec.id, version=1, text=_clean(text, "text", required=True),
        rationale=_clean(rationale, "rationale"), minority_opinions=_clean(minority_opinions, "minority_opinions"),
        evidence=_clean(evidence, "evidence"), author_id=actor.id))
    audit.record(session, "recommendation.created", actor_id=actor.id, panel_id=panel_id,
                 subject_type="recommendation", subject_id=rec.id,
                 payload={"title": title, "proposal_id": proposal_id, "poll_id": poll_id})
    session.commit()
    return rec


def create_from_proposal(session: Session, actor: User, proposal_id: int, *, rationale: str = "",
                         minority_opinions: str = "", evidence: str = "") -> Recommendation:
    proposal = get_or_404(session, Proposal, proposal_id, field="proposal_id", label="proposal")
    authorize(session, actor, "recommendation.manage", proposal.panel_id)
    if proposal.status in ("rejected", "withdrawn"):
        raise Conflict(f"Proposal {proposal_id} was {proposal.status}; only live proposals become "
                       "recommendations.", field="proposal_id")
    body = session.execute(select(ProposalVersion.body).where(
        ProposalVersion.proposal_id == proposal.id, ProposalVersion.version == proposal.current_version)
    ).scalar_one_or_none()
    if not body:
        raise ValidationFailed(f"Proposal {proposal_id} has no text yet.", field="proposal_id")
    poll = session.execute(select(Poll).where(Poll.proposal_id == proposal.id, Poll.result.is_not(None))
                           .order_by(Poll.id.desc()).limit(1)).scalar_one_or_none()
    support = support_from_poll(poll) if poll else None
    return create(session, actor, proposal.panel_id, title=proposal.title, text=body, rationale=rationale,
                  minority_opinions=minority_opinions, evidence=evidence, proposal_id=proposal.id,
                  poll_id=poll.id if poll else None, support=support)


def revise(session: Session, actor: User, rec_id: int, *, text: str, rationale: str = "",
           minority_opinions: str = "", evidence: str = "", base_version: int | None = None,
           title: str | None = None) -> RecommendationVersion:
    rec = get(session, rec_id)
    authorize(session, actor, "recommendation.manage", rec.panel_id)
    if rec.status in ("published", "withdrawn"):
        raise Conflict("A published recommendation cannot be reworded; it is what missions received.",
                       field="status")
    if base_version is not None and base_version != rec.current_version:
        raise Conflict(f"Someone saved version {rec.current_version} while you edited version {base_version}. "
                       "Reload and apply your change again.", field="base_version")
    if title is not None:
        rec.title = _clean(title, "title", required=True, limit=200)
    v = RecommendationVersion(
        recommendation_id=rec.id, version=rec.current_version + 1, text=_clean(text, "text", required=True),
        rationale=_clean(rationale, "rationale"), minority_opinions=_clean(minority_opinions, "minority_opinions"),
        evidence=_clean(evidence, "evidence"), author_id=actor.id)
    rec.current_version = v.version
    session.add(v)
    audit.record(session, "recommendation.revised", actor_id=actor.id, panel_id=rec.panel_id,
                 subject_type="recommendation", subject_id=rec.id, payload={"version": v.version})
    session.commit()
    return v


def set_support(session: Session, actor: User, rec_id: int, support: Any) -> Recommendation:
    rec = get(session, rec_id)
    authorize(session, actor, "recommendation.manage", rec.panel_id)
    if rec.status == "published":
        raise Conflict("Support figures of a published recommendation are fixed.", field="support")
    rec.support = validate_support(support)
    audit.record(session, "recommendation.support_set", actor_id=actor.id, panel_id=rec.panel_id,
                 subject_type="recommendation", subject_id=rec.id, payload={"poll_id": rec.support.get("poll_id")})
    session.commit()
    return rec


def attach_poll(session: Session, actor: User, rec_id: int, poll_id: int) -> Recommendation:
    rec = get(session, rec_id)
    authorize(session, actor, "recommendation.manage", rec.panel_id)
    poll = session.get(Poll, poll_id)
    if poll is None or poll.panel_id != rec.panel_id:
        raise NotFound(f"No poll {poll_id} in this panel.", field="poll_id")
    support = support_from_poll(poll)
    if support is None:
        raise Conflict(f"Poll {poll_id} has no result with yes/no/abstain figures yet.", field="poll_id")
    rec.poll_id = poll.id
    return set_support(session, actor, rec_id, support)


def open_review(session: Session, actor: User, rec_id: int) -> Recommendation:
    rec = get(session, rec_id)
    authorize(session, actor, "recommendation.manage", rec.panel_id)
    if rec.status != "draft":
        raise Conflict(f"Only a draft can be sent for review (this one is {rec.status}).", field="status")
    rec.status = "review"
    members = session.execute(select(User).join(PanelMember, PanelMember.user_id == User.id).where(
        PanelMember.panel_id == rec.panel_id, PanelMember.role == "citizen",
        PanelMember.status.in_(("active", "accepted")), User.active.is_(True))).scalars().all()
    for member in members:  # the panel reviews its own words before anything goes out
        notifications.enqueue_email(
            session, member, subject=f"Please review and sign off: {rec.title}",
            body=(f"The facilitators have prepared version {rec.current_version} of the recommendation "
                  f"\"{rec.title}\". Please read it and sign it off if it says what the panel decided:\n\n"
                  f"{current(session, rec).text}\n\nOpen it from your panel's Recommendations page.\n"))
    audit.record(session, "recommendation.review_opened", actor_id=actor.id, panel_id=rec.panel_id,
                 subject_type="recommendation", subject_id=rec.id,
                 payload={"version": rec.current_version, "notified": len(members)})
    session.commit()
    return rec


def sign_off(session: Session, user: User, rec_id: int) -> SignOff:
    rec = get(session, rec_id)
    authorize(session, user, "recommendation.sign", rec.panel_id)
    if rec.status != "review":
        raise Conflict("Sign-off is open only while the recommendation is in review.", field="status")
    v = current(session, rec)
    if session.execute(select(SignOff.id).where(SignOff.version_id == v.id, SignOff.user_id == user.id)).first():
        raise Conflict(f"You already signed off version {v.version}.", field="version")
    s = SignOff(version_id=v.id, user_id=user.id)
    session.add(s)
    audit.record(session, "recommendation.signed_off", actor_id=user.id, panel_id=rec.panel_id,
                 subject_type="recommendation", subject_id=rec.id, payload={"version": v.version})
    session.commit()
    return s


def sign_offs(session: Session, rec: Recommendation) -> list[tuple[SignOff, User]]:
    v = current(session, rec)
    return [(s, u) for s, u in session.execute(
        select(SignOff, User).join(User, User.id == SignOff.user_id).where(SignOff.version_id == v.id)
        .order_by(SignOff.created_at)).tuples()]


def publish(session: Session, actor: User, rec_id: int) -> Recommendation:
    rec = get(session, rec_id)
    authorize(session, actor, "recommendation.publish", rec.panel_id)
    if rec.status not in ("draft", "review"):
        raise Conflict(f"This recommendation is already {rec.status}.", field="status")
    signed = session.execute(select(func.count(SignOff.id)).join(
        RecommendationVersion, RecommendationVersion.id == SignOff.version_id).where(
        RecommendationVersion.recommendation_id == rec.id,
        RecommendationVersion.version == rec.current_version)).scalar_one()
    rec.status, rec.published_at = "published", utcnow()
    audit.record(session, "recommendation.published", actor_id=actor.id, panel_id=rec.panel_id,
                 subject_type="recommendation", subject_id=rec.id,
                 payload={"version": rec.current_version, "sign_offs": int(signed)})
    notifications.enqueue_webhooks(session, "recommendation.published",
                                   {"recommendation_id": rec.id, "panel_id": rec.panel_id, "title": rec.title,
                                    "version": rec.current_version, "published_at": rec.published_at})
    session.commit()
    return rec


# --- diffs --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldDiff:
    field: str
    segments: list[tuple[str, str]]  # ("equal"|"delete"|"insert", text) — rendered escaped by Jinja

    @property
    def changed(self) -> bool:
        return any(tag != "equal" for tag, _ in self.segments)


_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(a: str, b: str) -> list[tuple[str, str]]:
    ta, tb = _TOKENS.findall(a), _TOKENS.findall(b)
    out: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=ta, b=tb, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(("equal", "".join(ta[i1:i2])))
        else:
            if i2 > i1:
                out.append(("delete", "".join(ta[i1:i2])))
            if j2 > j1:
                out.append(("insert", "".join(tb[j1:j2])))
    return out


def diff(session: Session, rec_id: int, a: int, b: int) -> list[FieldDiff]:
    va, vb = version(session, rec_id, a), version(session, rec_id, b)
    return [FieldDiff(f, word_diff(getattr(va, f) or "", getattr(vb, f) or ""))
            for f in ("text", "rationale", "minority_opinions", "evidence")]


# --- delivery -----------------------------------------------------------------------------------

def parse_due(value: Any) -> datetime:
    if isinstance(value, datetime):
        due = value
    else:
        try:
            due = datetime.fromisoformat(str(value or "").strip())
        except ValueError:
            raise ValidationFailed("Give the due date as YYYY-MM-DD (UTC).", field="due_at") from None
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    if len(str(value or "")) == 10:  # a bare date means the end of that day, UTC
        due = due.replace(hour=23, minute=59, second=59)
    return due


def deliver(session: Session, actor: User, rec_id: int, *, due_at: Any, mission_ids: list[int] | None = None,
            region: str | None = None, link_base: str = "") -> list[Delivery]:
    """Send a published recommendation to every mission, a region's missions, or a chosen list.

    Missions that already have it keep their original due date (no duplicate, no silent change)."""
    rec = get(session, rec_id)
    authorize(session, actor, "recommendation.publish", rec.panel_id)
    if rec.status != "published":
        raise Conflict("Publish the recommendation before delivering it to missions.", field="status")
    due = parse_due(due_at)
    if due <= utcnow():
        raise ValidationFailed(f"The due date {due:%Y-%m-%d} is in the past; choose a future date.",
                               field="due_at")
    stmt = select(Mission).order_by(Mission.name)
    if mission_ids:
        stmt = stmt.where(Mission.id.in_(mission_ids))
    elif region:
        stmt = stmt.where(Mission.region == region)
    targets = list(session.execute(stmt).scalars())
    if mission_ids and len(targets) != len(set(mission_ids)):
        missing = sorted(set(mission_ids) - {m.id for m in targets})
        raise ValidationFailed(f"Unknown mission ids: {missing}.", field="mission_ids")
    if not targets:
        raise ValidationFailed("No mission matches this choice.", field="region" if region else "mission_ids")
    already = set(session.execute(select(Delivery.mission_id).where(Delivery.recommendation_id == rec.id)).scalars())
    created: list[Delivery] = []
    for m in targets:
        if m.id in already:
            continue
        d = Delivery(recommendation_id=rec.id, mission_id=m.id, due_at=due, delivered_at=utcnow())
        session.add(d)
        created.append(d)
        for officer in session.execute(select(User).where(User.mission_id == m.id, User.active.is_(True))).scalars():
            notifications.enqueue_email(
                session, officer, subject=f"New citizens' panel recommendation: {rec.title}",
                body=(f"{m.name} is asked to answer this recommendation publicly by {due:%d %B %Y} (UTC):\n\n"
                      f"{rec.title}\n\n{current(session, rec).text}\n\n"
                      f"Answer (accept / partly / reject / under review) at {link_base.rstrip('/')}/inbox\n"))
    session.flush()
    audit.record(session, "recommendation.delivered", actor_id=actor.id, panel_id=rec.panel_id,
                 subject_type="recommendation", subject_id=rec.id,
                 payload={"missions": len(created), "skipped_already_delivered": len(targets) - len(created),
                          "due_at": due.isoformat(), "region": region, "chosen": bool(mission_ids)})
    session.commit()
    return created
