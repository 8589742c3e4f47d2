"""Room pages: the live room, the facilitator console, and a text-only page that needs no JavaScript."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from panel.errors import ServiceError
from panel.extensions import db, socketio
from panel.services import panels
from panel.services.permissions import can

from . import messages, speaking_queue
from .rooms import NAMESPACE, access, channel, create_room, get_room, list_rooms, room_state

bp = Blueprint("rooms", __name__, template_folder="templates")
TEXT_PAGE_MESSAGES = 50
TEXT_REFRESH_S = 15


@bp.route("/panels/<int:panel_id>/rooms", methods=["GET", "POST"])
@login_required
def room_list(panel_id: int) -> Any:
    panel = panels.get_panel(db.session, panel_id)
    error = field = None
    if request.method == "POST":
        limit = (request.form.get("turn_limit_s") or "").strip()
        try:
            if limit and not limit.isdigit():
                raise ServiceError(_("Speaking-turn limit must be a whole number of seconds."), field="turn_limit_s")
            room = create_room(db.session, current_user, panel.id, name=request.form.get("name", ""),
                               turn_limit_s=int(limit) if limit else None)
        except ServiceError as e:
            db.session.rollback()
            if e.status == 403:
                raise
            error, field = e.message, e.field
        else:
            flash(_("Room opened. Share the room page with the panel."), "success")
            return redirect(url_for("rooms.room_page", room_id=room.id))
    rooms = list_rooms(db.session, current_user, panel.id)
    status = 422 if error else 200
    return render_template("rooms/list.html", panel=panel, rooms=rooms, error=error, field=field,
                           can_manage=can(db.session, current_user, "room.facilitate", panel.id)), status


@bp.route("/rooms/<int:room_id>")
@login_required
def room_page(room_id: int) -> Any:
    room = get_room(db.session, room_id)
    acc = access(db.session, current_user, room)
    panel = panels.get_panel(db.session, room.panel_id)
    return render_template("rooms/room.html", room=room, panel=panel, acc=acc)


@bp.route("/rooms/<int:room_id>/console")
@login_required
def console(room_id: int) -> Any:
    room = get_room(db.session, room_id)
    acc = access(db.session, current_user, room)
    if not acc.can_facilitate:
        from panel.errors import PermissionDenied
        raise PermissionDenied(_("Only the panel's facilitators can open the console."))
    panel = panels.get_panel(db.session, room.panel_id)
    return render_template("rooms/console.html", room=room, panel=panel, acc=acc)


@bp.route("/rooms/<int:room_id>/text", methods=["GET", "POST"])
@login_required
def text_room(room_id: int) -> Any:
    """Works on any browser and the weakest connection: a form post and a meta refresh."""
    room = get_room(db.session, room_id)
    acc = access(db.session, current_user, room)
    error = None
    body = ""
    if request.method == "POST":
        action = request.form.get("action", "message")
        try:
            if not acc.can_post:
                from panel.errors import PermissionDenied
                raise PermissionDenied(_("Observers cannot post in the room."))
            if action == "hand":
                if speaking_queue.set_hand(db.session, current_user, room, request.form.get("raised") == "1"):
                    socketio.emit("state", room_state(db.session, room, *_presence(room.id)),
                                  namespace=NAMESPACE, to=channel(room.id))
            else:
                body = request.form.get("body", "")
                from .namespace import namespace
                messages.validate(body, request.form.get("client_id"))
                namespace.take_token(current_user.id)
                msg, _created = messages.post(db.session, current_user, room, body, request.form.get("client_id"))
                socketio.emit("message", msg, namespace=NAMESPACE, to=channel(room.id))
            return redirect(url_for("rooms.text_room", room_id=room.id, _anchor="end"), code=303)
        except ServiceError as e:
            db.session.rollback()
            if action != "hand":  # keep what they wrote and say what is wrong, on the compose page
                return render_template("rooms/text_write.html", room=room, error=e.message, body=body,
                                       client_id=request.form.get("client_id") or uuid.uuid4().hex), e.status
            error = e.message
    state = room_state(db.session, room, *_presence(room.id))
    recent = messages.recent(db.session, room.id, TEXT_PAGE_MESSAGES, moderator=acc.can_facilitate)
    raised = any(q["user_id"] == current_user.id for q in state["queue"])
    return render_template("rooms/text.html", room=room, acc=acc, state=state, messages=recent, error=error,
                           body=body, client_id=uuid.uuid4().hex, raised=raised,
                           refresh=None if error else TEXT_REFRESH_S), 422 if error else 200


def _presence(room_id: int) -> tuple[list[dict[str, Any]], int]:
    from .namespace import namespace

    if namespace.presence is None:
        return [], 0
    return namespace.presence.people(room_id)


@bp.route("/rooms/<int:room_id>/text/write")
@login_required
def text_write(room_id: int) -> Any:
    """The compose form on its own page, so the auto-refresh of the room never wipes a half-typed message."""
    room = get_room(db.session, room_id)
    acc = access(db.session, current_user, room)
    if not acc.can_post:
        return redirect(url_for("rooms.text_room", room_id=room.id))
    return render_template("rooms/text_write.html", room=room, error=None, body="", client_id=uuid.uuid4().hex)
