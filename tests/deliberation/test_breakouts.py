"""Breakouts: balanced groups of 8–10 by assignment, fewer repeat meetings across rounds, open/close."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import select

from deliberation.breakouts import _pairs_met, assign, group_count
from deliberation.rooms import NAMESPACE
from panel.models import AuditEvent, Room, RoomMember

from .factories import add_citizens, received

FEATS = ["region", "gender", "age_band"]


def population(n, seed=7):
    rng = random.Random(seed)
    return [(i, {"region": rng.choice(["Africa", "Asia", "Asia", "Europe", "Americas"]),
                 "gender": rng.choice(["f", "m"]), "age_band": rng.choice(["18-29", "30-44", "45-59", "60+"])})
            for i in range(n)]


@pytest.mark.parametrize("n", [8, 10, 23, 50, 97, 200])
def test_everyone_placed_once_in_groups_of_8_to_10(n):
    a = assign(population(n), features=FEATS)
    placed = [p for g in a.groups for p in g]
    assert sorted(placed) == list(range(n))
    sizes = [len(g) for g in a.groups]
    assert max(sizes) - min(sizes) <= 1 and max(sizes) <= 10
    if any(8 * k <= n <= 10 * k for k in range(1, n + 1)):  # 8–10 is possible (not for n = 23)
        assert min(sizes) >= 8
    assert len(a.groups) == group_count(n)


def imbalance(groups, people):
    feats = dict(people)
    n = len(people)
    total = 0.0
    for f in FEATS:
        shares = Counter(feats[i][f] for i in feats)
        for g in groups:
            cnt = Counter(feats[i][f] for i in g)
            total += sum(abs(cnt[v] - s / n * len(g)) for v, s in shares.items())
    return total


def test_groups_mirror_the_panel_far_better_than_chance():
    people = population(200)
    a = assign(people, features=FEATS)
    rng = random.Random(3)
    chance = []
    for _ in range(20):
        ids = [p for p, _ in people]
        rng.shuffle(ids)
        chance.append(imbalance([ids[i::20] for i in range(20)], people))
    assert imbalance(a.groups, people) < 0.6 * min(chance)
    # Each group's gender split is within one person of the panel's.
    feats = dict(people)
    women = sum(1 for i in feats if feats[i]["gender"] == "f") / 200
    for g in a.groups:
        assert abs(sum(feats[i]["gender"] == "f" for i in g) - women * len(g)) <= 1.0


def test_reshuffles_meet_new_people():
    people = population(100)
    history = []
    rng = random.Random(5)
    for _ in range(3):
        a = assign(people, features=FEATS, history=history)
        ids = [p for p, _ in people]
        rng.shuffle(ids)
        chance = _pairs_met([ids[i::10] for i in range(10)], history)
        assert a.repeat_pairs <= max(2, chance // 4)
        history.append(a.groups)


def test_deterministic():
    people = population(60)
    assert assign(people, features=FEATS).groups == assign(people, features=FEATS).groups


def ev(c, name, room_id, **data):
    return c.emit(name, {"room": room_id, **data}, namespace=NAMESPACE, callback=True)


def test_open_and_close_breakouts_over_the_namespace(sio, db, users, room):
    citizens = add_citizens(db.session, users["panel"].id, 19)
    f = sio(users["facilitator"])
    ev(f, "join", room.id)
    clients = {u.id: sio(u) for u in citizens[:3]}
    for cl in clients.values():
        ev(cl, "join", room.id)
        cl.get_received(NAMESPACE)
    plan = ev(f, "breakouts_open", room.id)
    assert plan["round"] == 1 and len(plan["groups"]) == 2
    assert sorted(len(g["members"]) for g in plan["groups"]) == [10, 10]  # 19 + the fixture's citizen
    group_of = {uid: g["id"] for g in plan["groups"] for uid in g["members"]}
    for uid, cl in clients.items():
        moved = received(cl, "breakout")
        assert moved and moved[0]["breakout"]["id"] == group_of[uid]
    uid, cl = next(iter(clients.items()))
    mine = group_of[uid]
    other = next(g["id"] for g in plan["groups"] if g["id"] != mine)
    assert "state" in ev(cl, "join", mine)
    assert ev(cl, "join", other)["error"]["code"] == "not_assigned"
    assert "state" in ev(f, "join", other)  # facilitators visit any breakout
    assert ev(cl, "join", room.id)["breakout"]["id"] == mine  # the plenary points to the group
    assert ev(f, "breakouts_open", room.id)["error"]["code"] == "breakouts_open"
    closed = ev(f, "breakouts_close", room.id)
    assert sorted(closed["closed"]) == sorted(g["id"] for g in plan["groups"])
    assert received(cl, "recall")[0]["plenary"] == room.id
    assert ev(cl, "message", mine, body="late", client_id="late")["error"]["code"] == "room_closed"
    again = ev(f, "breakouts_open", room.id)
    assert again["round"] == 2
    assert again["repeat_pairs"] == 40  # the minimum: each new group is half of each old one, 2 × 2 × C(5, 2)
    actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.action.like("breakouts.%")).order_by(AuditEvent.id)).scalars()
    assert list(actions) == ["breakouts.opened", "breakouts.closed", "breakouts.opened"]
    rows = db.session.execute(select(Room).where(Room.parent_id == room.id)).scalars().all()
    assert len(rows) == 4
    assert db.session.execute(select(RoomMember).where(RoomMember.room_id == mine)).scalars().first()


def test_breakouts_need_a_plenary_and_people(sio, db, users, room):
    f = sio(users["facilitator"])
    ev(f, "join", room.id)
    assert ev(f, "breakouts_open", room.id)["error"]["field"] == "room"  # only one citizen
    assert ev(f, "breakouts_close", room.id)["error"]["code"] == "no_breakouts"
    add_citizens(db.session, users["panel"].id, 5)
    assert ev(f, "breakouts_open", room.id, groups="two")["error"]["field"] == "groups"
