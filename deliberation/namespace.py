"""The ``/rooms`` Socket.IO namespace: thin handlers that parse, authorize, call a service, emit.

Every client event is answered through its acknowledgement: the result, or
``{"error": {"code", "message", "field"}}``; nothing is broadcast or stored when it fails.
Broadcasts happen only after the change is committed. See docs/realtime.md for every event.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

from flask import current_app, has_app_context, request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, Namespace, join_room, leave_room
from sqlalchemy.exc import DBAPIError, IntegrityError

from panel.errors import PermissionDenied, ServiceError, ValidationFailed
from panel.extensions import db, socketio
from panel.models import Room, User
from panel.services import accounts

from . import agenda, breakouts, equity, messages, moderation, speaking_queue, statements
from .group_commit import GroupCommit
from .limits import TokenBucket
from .presence import Presence
from .rooms import (
    NAMESPACE,
    Access,
    access,
    channel,
    ensure_member,
    get_room,
    member_row,
    room_state,
    user_channel,
)

log = logging.getLogger(__name__)
Handler = Callable[..., Any]


def error(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def event(facilitator: bool = False, joined: bool = True, light: bool = False) -> Callable[[Handler], Handler]:
    """Wrap a handler: payload must be an object naming a room the socket joined; errors → ack.

    ``light`` handlers get the socket id and user id instead of loaded User/Room rows: they check
    the user and room in their own (batched) queries, so the hot path costs no per-event lookups;
    they may be called without a request context (see :meth:`RoomNamespace.trigger_event`).
    """

    def wrap(fn: Handler) -> Handler:
        @functools.wraps(fn)
        def handler(self: RoomNamespace, data: Any = None, *_: Any, sid: str | None = None) -> Any:
            try:
                if not isinstance(data, dict):
                    raise ValidationFailed("The payload must be an object.", field="payload", code="bad_payload")
                for attempt in (1, 2):
                    try:
                        if light:
                            sid = sid or request.sid  # type: ignore[attr-defined]
                            return fn(self, sid, self.user_id(sid), self.joined(data.get("room"), sid), data)
                        user = self.user()
                        if not joined:
                            return fn(self, user, data)
                        acc = self.joined(data.get("room"))
                        if facilitator and not acc.can_facilitate:
                            raise PermissionDenied("Only the facilitator can do this.", code="forbidden")
                        room = get_room(db.session, acc.room_id)
                        return fn(self, user, room, acc, data)
                    except IntegrityError:
                        # Two tabs of one person raced on the same row (e.g. room membership): retry once.
                        db.session.rollback()
                        if attempt == 2:
                            raise
                return None
            except ServiceError as e:
                db.session.rollback()
                return error(e.code, e.message, e.field)
            except DBAPIError:
                db.session.rollback()
                log.warning("database error in %s", fn.__name__, exc_info=True)
                return error("unavailable", "The database is not reachable right now; try again in a moment.")
            except Exception:  # noqa: BLE001 - a bug must not kill the connection
                db.session.rollback()
                log.exception("error in socket handler %s", fn.__name__)
                return error("internal_error", "Something went wrong on our side; it has been logged.")

        return handler

    return wrap


class RoomNamespace(Namespace):
    def __init__(self, namespace: str = NAMESPACE) -> None:
        super().__init__(namespace)
        self.users: dict[str, int] = {}
        self.access: dict[str, dict[int, Access]] = {}
        self.presence: Presence | None = None
        self.bucket: TokenBucket | None = None
        self.commits: GroupCommit[messages.Draft, messages.Outcome] = GroupCommit()

    # -- plumbing ----------------------------------------------------------------------------
    def trigger_event(self, event: str, *args: Any) -> Any:
        """Dispatch an event; ``message`` — the hot path — runs in an app context only.

        Flask-SocketIO gives every event a request context built from the connection's WSGI
        environ (a Request object, URL matching, the signed session cookie opened again): measured
        about as costly as the rest of a message's handling. ``on_message`` needs none of it — it
        gets the socket id directly and reads no request, session or current_user.
        """
        if event == "message" and args:
            environ = self.socketio.server.get_environ(args[0], namespace=self.namespace)
            if environ:
                app, data = environ["flask.app"], (args[1] if len(args) > 1 else None)
                if has_app_context() and current_app._get_current_object() is app:  # type: ignore[attr-defined]
                    return self.on_message(data, sid=args[0])  # as Flask does: reuse the active app context
                with app.app_context():
                    return self.on_message(data, sid=args[0])
        return super().trigger_event(event, *args)

    def get_presence(self) -> Presence:
        if self.presence is None:
            cfg = current_app.config
            url = cfg.get("REDIS_URL") if cfg.get("SOCKETIO_USE_QUEUE", True) else None
            self.presence = Presence(url, prefix="pnyx:" + (cfg.get("SOCKETIO_CHANNEL") or "flask-socketio"))
            self.presence.start(socketio.start_background_task, socketio.sleep)
        return self.presence

    def take_token(self, user_id: int, action: str = "message") -> None:
        """Per-user flood limit: ROOM_MESSAGE_RATE messages/s sustained, ROOM_MESSAGE_BURST at once."""
        if self.bucket is None:
            cfg = current_app.config
            self.bucket = TokenBucket(float(cfg.get("ROOM_MESSAGE_RATE", 1.0)), int(cfg.get("ROOM_MESSAGE_BURST", 10)))
        self.bucket.take(user_id, action)

    def user_id(self, sid: str) -> int:
        uid = self.users.get(sid)
        if uid is None:
            raise PermissionDenied("Your session has ended; sign in again.", code="unauthorized")
        return uid

    def user(self) -> User:
        uid = self.users.get(request.sid)  # type: ignore[attr-defined]
        user = db.session.get(User, uid) if uid is not None else None
        if user is None or not user.active:
            raise PermissionDenied("Your session has ended; sign in again.", code="unauthorized")
        return user

    def joined(self, room_id: Any, sid: str | None = None) -> Access:
        if not isinstance(room_id, int) or isinstance(room_id, bool):
            raise ValidationFailed("room must be a room id (integer).", field="room")
        acc = self.access.get(sid or request.sid, {}).get(room_id)  # type: ignore[attr-defined]
        if acc is None:
            raise PermissionDenied("Join the room first.", field="room", code="not_joined")
        return acc

    def out(self, event: str, data: Any, *, to: str, skip_sid: str | None = None) -> None:
        """Emit to a Socket.IO room on every server process (through the message queue if any)."""
        socketio.emit(event, data, namespace=self.namespace, to=to, skip_sid=skip_sid)

    def broadcast_state(self, room: Room) -> None:
        people, observers = self.get_presence().people(room.id)
        self.out("state", room_state(db.session, room, people, observers), to=channel(room.id))

    def broadcast_presence(self, room_id: int) -> None:
        people, observers = self.get_presence().people(room_id)
        self.out("presence", {"room": room_id, "presence": people, "observers": observers}, to=channel(room_id))

    # -- connection ------------------------------------------------------------------------
    def on_connect(self, auth: Any = None) -> None:
        user_id = None
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            if isinstance(token, str) and token:
                user_id = accounts.user_id_for_api_token(db.session, token)
            elif getattr(current_user, "is_authenticated", False):
                user_id = current_user.id
        except DBAPIError:
            db.session.rollback()
            raise ConnectionRefusedError("unavailable: the database is not reachable; retry shortly") from None
        if user_id is None:
            raise ConnectionRefusedError("unauthorized: sign in or pass auth={'token': …}")
        self.users[request.sid] = user_id  # type: ignore[attr-defined]
        self.access[request.sid] = {}  # type: ignore[attr-defined]
        join_room(user_channel(user_id))
        self.get_presence()

    def on_disconnect(self, reason: Any = None) -> None:
        sid = request.sid  # type: ignore[attr-defined]
        self.users.pop(sid, None)
        acc = self.access.pop(sid, {})
        rooms = self.get_presence().drop_sid(sid)
        for room_id in rooms:
            if room_id in acc and not acc[room_id].observer:
                self.broadcast_presence(room_id)

    # -- rooms and messages ----------------------------------------------------------------
    @event(joined=False)
    def on_join(self, user: User, data: dict[str, Any]) -> Any:
        room = get_room(db.session, data.get("room"))
        acc = access(db.session, user, room)
        last_seq = data.get("last_seq", 0)
        moderator = acc.can_facilitate
        # Read before the history: seqs below it are committed, so the history query sees them all.
        next_seq = room.next_seq
        backlog = messages.history(db.session, room.id, last_seq, moderator=moderator)
        member = member_row(db.session, room.id, user.id) if acc.can_post else None
        if acc.can_post and member is None:
            member = ensure_member(db.session, room, user)
            db.session.commit()  # only when something was written: a commit expires (reloads) every row
        sid = request.sid  # type: ignore[attr-defined]
        join_room(channel(room.id))
        self.access.setdefault(sid, {})[room.id] = acc
        self.get_presence().add(room.id, sid, {"user_id": user.id, "name": user.name, "role": user.role,
                                               "observer": acc.observer})
        people, observers = self.get_presence().people(room.id)
        if not acc.observer:
            self.out("presence", {"room": room.id, "presence": people, "observers": observers},
                      to=channel(room.id), skip_sid=sid)
        from .rooms import current_breakout
        # Only citizens are assigned to breakouts; observers (800 of an assembly's joins) skip the query.
        moved = (current_breakout(db.session, room, user.id)
                 if room.kind == "plenary" and acc.can_post and not moderator else None)
        last = backlog[-1]["seq"] if backlog else None
        return {
            "state": room_state(db.session, room, people, observers),
            "messages": backlog,
            "more": len(backlog) >= messages.MAX_HISTORY,
            # Never past what this reply holds: a message committed after the history query was read
            # reaches the client as a broadcast (it joined the channel first) or, if it was broadcast
            # before that, as a gap the client fills with ``history``.
            "last_seq": last if len(backlog) >= messages.MAX_HISTORY else max(next_seq - 1, last or 0),
            "statements": statements.list_for(db.session, room, user.id),
            "you": {"user_id": user.id, "name": user.name, "can_post": acc.can_post,
                    "can_facilitate": acc.can_facilitate,
                    "muted_until": member.muted_until.isoformat() if member and member.muted_until else None},
            "breakout": {"id": moved.id, "name": moved.name} if moved else None,
        }

    @event()
    def on_leave(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        sid = request.sid  # type: ignore[attr-defined]
        leave_room(channel(room.id))
        self.access.get(sid, {}).pop(room.id, None)
        self.get_presence().remove(room.id, sid)
        if not acc.observer:
            self.broadcast_presence(room.id)
        return {"ok": True}

    @event()
    def on_history(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        backlog = messages.history(db.session, room.id, data.get("last_seq", 0), moderator=acc.can_facilitate)
        return {"messages": backlog, "more": len(backlog) >= messages.MAX_HISTORY}

    @event(light=True)
    def on_message(self, sid: str, user_id: int, acc: Access, data: dict[str, Any]) -> Any:
        if not acc.can_post:
            raise PermissionDenied("Observers cannot post in the room.", code="observer")
        text, cid = messages.validate(data.get("body"), data.get("client_id"))
        self.take_token(user_id)
        outcome = self.commits.submit(messages.Draft(acc.room_id, user_id, cid, text),
                                      self._store_messages, self._publish_messages)
        if isinstance(outcome, ServiceError):
            raise outcome
        return {"seq": outcome.message["seq"], "id": outcome.message["id"], "duplicate": not outcome.created}

    @staticmethod
    def _store_messages(drafts: Sequence[messages.Draft]) -> list[messages.Outcome]:
        """One transaction for a batch of drafts, in the leading thread's session (see group_commit)."""
        try:
            return messages.store_each(db.session, drafts)
        except BaseException:
            db.session.rollback()  # the leader's session serves its next batch: leave it clean
            raise

    def _publish_messages(self, done: list[tuple[messages.Draft, messages.Outcome]]) -> list[BaseException | None]:
        """Broadcast committed messages in seq order. A resend is broadcast again too: the first
        attempt may have committed and then lost its broadcast with a crashed process; clients drop
        seqs they already have."""
        failed: list[BaseException | None] = []
        for draft, outcome in done:
            err: BaseException | None = None
            if isinstance(outcome, messages.Stored):
                try:
                    self.out("message", outcome.message, to=channel(draft.room_id))
                except Exception as e:  # noqa: BLE001 - committed, not broadcast: the ack says so, the client resends
                    log.warning("broadcast failed", exc_info=True)
                    err = e
            failed.append(err)
        return failed

    # -- speaking queue and floor ----------------------------------------------------------
    @event()
    def on_hand(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        if not acc.can_post:
            raise PermissionDenied("Observers cannot raise a hand.", code="observer")
        if speaking_queue.set_hand(db.session, user, room, data.get("raised")):
            self.broadcast_state(room)
        return {"ok": True}

    @event(facilitator=True)
    def on_floor_give(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        turn = speaking_queue.give_floor(db.session, user, room, data.get("user_id"), data.get("limit_s"))
        self.broadcast_state(room)
        return {"turn_id": turn.id}

    @event(facilitator=True)
    def on_floor_end(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        speaking_queue.end_floor(db.session, room)
        self.broadcast_state(room)
        return {"ok": True}

    # -- agenda ----------------------------------------------------------------------------
    @event(facilitator=True)
    def on_agenda_add(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        item = agenda.add_item(db.session, room, data.get("title"), data.get("duration_s"))
        self.broadcast_state(room)
        return {"item_id": item.id}

    @event(facilitator=True)
    def on_agenda_start(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        item = agenda.start_item(db.session, room, data.get("item_id"))
        self.broadcast_state(room)
        return {"item_id": item.id, "deadline_at": item.deadline_at.isoformat() if item.deadline_at else None}

    @event(facilitator=True)
    def on_agenda_extend(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        item = agenda.extend_item(db.session, room, data.get("item_id"), data.get("seconds"))
        self.broadcast_state(room)
        return {"item_id": item.id, "deadline_at": item.deadline_at.isoformat() if item.deadline_at else None}

    @event(facilitator=True)
    def on_agenda_done(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        agenda.finish_item(db.session, room, data.get("item_id"))
        self.broadcast_state(room)
        return {"ok": True}

    # -- equity, nudges, moderation --------------------------------------------------------
    @event(facilitator=True)
    def on_equity(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        online = {p["user_id"] for p in self.get_presence().people(room.id)[0]}
        return equity.stats(db.session, room, online)

    @event(facilitator=True)
    def on_nudge(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        payload = moderation.nudge(db.session, user, room, data.get("user_id"), data.get("text"))
        self.out("nudge", payload, to=user_channel(data["user_id"]))
        return {"ok": True}

    @event(facilitator=True)
    def on_hide(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        msg = moderation.hide_message(db.session, user, room, data.get("seq"), data.get("reason"))
        self.out("message_hidden", {"room": room.id, "seq": msg.seq}, to=channel(room.id))
        return {"ok": True, "seq": msg.seq}

    @event(facilitator=True)
    def on_mute(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        row = moderation.mute(db.session, user, room, data.get("user_id"), data.get("minutes"), data.get("reason"))
        until = row.muted_until.isoformat() if row.muted_until else None
        self.out("muted", {"room": room.id, "until": until}, to=user_channel(row.user_id))
        return {"ok": True, "until": until}

    @event(facilitator=True)
    def on_remove(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        row = moderation.remove(db.session, user, room, data.get("user_id"), data.get("reason"))
        self.out("removed", {"room": room.id}, to=user_channel(row.user_id))
        presence = self.get_presence()
        for sid in presence.sids_of_user(room.id, row.user_id):
            socketio.server.leave_room(sid, channel(room.id), namespace=self.namespace)
            presence.remove(room.id, sid)
            self.access.get(sid, {}).pop(room.id, None)
        self.broadcast_state(room)
        return {"ok": True}

    # -- breakouts -------------------------------------------------------------------------
    @event(facilitator=True)
    def on_breakouts_open(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        plan = breakouts.open_round(db.session, user, room, data.get("groups"))
        for grp in plan["groups"]:
            for uid in grp["members"]:
                self.out("breakout", {"room": room.id, "breakout": {"id": grp["id"], "name": grp["name"]}},
                          to=user_channel(uid))
        self.broadcast_state(room)
        return plan

    @event(facilitator=True)
    def on_breakouts_close(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        closed = breakouts.close_round(db.session, user, room)
        for rid in closed:
            self.out("recall", {"room": rid, "plenary": room.id}, to=channel(rid))
        self.broadcast_state(room)
        return {"closed": closed}

    # -- statements and reactions ----------------------------------------------------------
    @event()
    def on_statement(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        if not acc.can_post:
            raise PermissionDenied("Observers cannot put statements.", code="observer")
        self.take_token(user.id, "statement")
        st = statements.put(db.session, user, room, data.get("body"))
        self.out("statement", st, to=channel(room.id))
        return {"id": st["id"]}

    @event()
    def on_react(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        if not acc.can_post:
            raise PermissionDenied("Observers cannot react.", code="observer")
        out = statements.react(db.session, user, room, data.get("statement_id"), data.get("value"))
        self.out("reactions", out, to=channel(room.id))
        return out

    # -- voting: the same service as the web page (panel/services/ballots.py); ack to the voter only --
    @event()
    def on_vote(self, user: User, room: Room, acc: Access, data: dict[str, Any]) -> Any:
        from panel.services import ballots

        return ballots.cast_in_room(db.session, user, room.panel_id, data)


namespace = RoomNamespace()
