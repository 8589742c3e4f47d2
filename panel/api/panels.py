"""``/api/v1/panels``."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for

from ..extensions import db
from ..models import Panel
from ..services import panels
from .base import bp, created, current_api_user, parse_body, token_required
from .schemas import PanelCreate, PanelOut, PanelUpdate


def dump(p: Panel) -> dict[str, Any]:
    return PanelOut.model_validate(p, from_attributes=True).model_dump(mode="json")


@bp.get("/panels")
@token_required
def list_panels() -> Any:
    return jsonify({"items": [dump(p) for p in panels.list_panels(db.session, current_api_user())]})


@bp.post("/panels")
@token_required
def create_panel() -> Any:
    body = parse_body(PanelCreate)
    p = panels.create_panel(db.session, current_api_user(), **body.model_dump())
    return created(dump(p), url_for("api.get_panel", panel_id=p.id))


@bp.get("/panels/<int:panel_id>")
@token_required
def get_panel(panel_id: int) -> Any:
    return jsonify(dump(panels.view_panel(db.session, current_api_user(), panel_id)))


@bp.patch("/panels/<int:panel_id>")
@token_required
def update_panel(panel_id: int) -> Any:
    body = parse_body(PanelUpdate)
    p = panels.update_panel(db.session, current_api_user(), panel_id, **body.model_dump(exclude_unset=True))
    return jsonify(dump(p))
