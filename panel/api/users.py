"""``/api/v1/users`` (admins manage; organizers may read)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..services import accounts
from ..services.permissions import authorize
from .base import bp, created, current_api_user, parse_body, token_required
from .schemas import UserCreate, UserOut, UserUpdate


def dump(u: User) -> dict[str, Any]:
    return UserOut.model_validate(u, from_attributes=True).model_dump(mode="json")


@bp.get("/users")
@token_required
def list_users() -> Any:
    authorize(db.session, current_api_user(), "user.view")
    users = db.session.execute(select(User).order_by(User.id)).scalars()
    return jsonify({"items": [dump(u) for u in users]})


@bp.post("/users")
@token_required
def create_user() -> Any:
    authorize(db.session, current_api_user(), "user.admin")
    body = parse_body(UserCreate)
    u = accounts.create_user(db.session, actor_id=current_api_user().id, **body.model_dump())
    return created(dump(u), url_for("api.get_user", user_id=u.id))


@bp.get("/users/<int:user_id>")
@token_required
def get_user(user_id: int) -> Any:
    me = current_api_user()
    if me.id != user_id:
        authorize(db.session, me, "user.view")
    return jsonify(dump(accounts.get_user(db.session, user_id)))


@bp.patch("/users/<int:user_id>")
@token_required
def update_user(user_id: int) -> Any:
    authorize(db.session, current_api_user(), "user.admin")
    body = parse_body(UserUpdate)
    u = accounts.update_user(db.session, accounts.get_user(db.session, user_id), actor_id=current_api_user().id,
                             **body.model_dump(exclude_unset=True))
    return jsonify(dump(u))
