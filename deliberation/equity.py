"""Speaking-time and message equity per person and by group (region, gender, age…).

Shown to facilitators only: a group's share of speaking time next to its share of the people in
the room tells at a glance who is not being heard.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panel.models import Message, PanelMember, Room, RoomMember, SpeakingTurn, User, Volunteer
from panel.models.base import utcnow

GROUP_FEATURES = ("region", "gender", "age_band")
UNKNOWN = "—"


def features_of(session: Session, panel_id: int, user_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not user_ids:
        return {}
    rows = session.execute(
        select(PanelMember.user_id, Volunteer.features).join(Volunteer, Volunteer.id == PanelMember.volunteer_id)
        .where(PanelMember.panel_id == panel_id, PanelMember.user_id.in_(user_ids))
    ).all()
    return {uid: dict(feats or {}) for uid, feats in rows}


def stats(session: Session, room: Room, online: set[int] | None = None) -> dict[str, Any]:
    now = utcnow()
    members = session.execute(
        select(User.id, User.name, User.role).join(RoomMember, RoomMember.user_id == User.id)
        .where(RoomMember.room_id == room.id, RoomMember.removed_at.is_(None))
    ).all()
    speaking: dict[int, float] = defaultdict(float)
    turns: dict[int, int] = defaultdict(int)
    for t in session.execute(select(SpeakingTurn).where(SpeakingTurn.room_id == room.id)).scalars():
        speaking[t.user_id] += max(0.0, ((t.ended_at or now) - t.started_at).total_seconds())
        turns[t.user_id] += 1
    counts = dict(session.execute(
        select(Message.author_id, func.count(Message.id)).where(Message.room_id == room.id)
        .group_by(Message.author_id)
    ).all())
    feats = features_of(session, room.panel_id, [m.id for m in members])
    people = []
    for uid, name, role in members:
        if role != "citizen":
            continue  # staff talk a lot by design; equity is about panelists
        people.append({"user_id": uid, "name": name, "speaking_s": round(speaking[uid], 1),
                       "turns": turns[uid], "messages": int(counts.get(uid, 0)),
                       "online": online is None or uid in online,
                       "quiet": speaking[uid] == 0 and counts.get(uid, 0) == 0,
                       "groups": {f: str(feats.get(uid, {}).get(f, UNKNOWN)) for f in GROUP_FEATURES}})
    people.sort(key=lambda p: (p["speaking_s"] + 10 * p["messages"], p["name"]))
    total_s = sum(p["speaking_s"] for p in people) or 0.0
    total_m = sum(p["messages"] for p in people) or 0
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in GROUP_FEATURES:
        agg: dict[str, dict[str, float]] = defaultdict(lambda: {"people": 0, "speaking_s": 0.0, "messages": 0})
        for p in people:
            a = agg[p["groups"][f]]
            a["people"] += 1
            a["speaking_s"] += p["speaking_s"]
            a["messages"] += p["messages"]
        n = len(people) or 1
        groups[f] = [{
            "value": v, "people": int(a["people"]), "people_share": round(a["people"] / n, 3),
            "speaking_s": round(a["speaking_s"], 1),
            "speaking_share": round(a["speaking_s"] / total_s, 3) if total_s else 0.0,
            "messages": int(a["messages"]),
            "message_share": round(a["messages"] / total_m, 3) if total_m else 0.0,
        } for v, a in sorted(agg.items())]
    return {"room": room.id, "people": people, "groups": groups, "total_speaking_s": round(total_s, 1),
            "total_messages": total_m}
