"""OpenAPI 3.1 document built from the pydantic schemas that validate requests."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from pydantic import BaseModel

from . import schemas
from .base import bp

# (method, path, summary, request schema, response schema, list?)
OPERATIONS: list[tuple[str, str, str, type[BaseModel] | None, type[BaseModel], bool]] = [
    ("get", "/panels", "List the panels you may see", None, schemas.PanelOut, True),
    ("post", "/panels", "Open a panel", schemas.PanelCreate, schemas.PanelOut, False),
    ("get", "/panels/{panel_id}", "One panel", None, schemas.PanelOut, False),
    ("patch", "/panels/{panel_id}", "Change a panel", schemas.PanelUpdate, schemas.PanelOut, False),
    ("get", "/users", "List users", None, schemas.UserOut, True),
    ("post", "/users", "Create a user", schemas.UserCreate, schemas.UserOut, False),
    ("get", "/users/{user_id}", "One user", None, schemas.UserOut, False),
    ("patch", "/users/{user_id}", "Change a user", schemas.UserUpdate, schemas.UserOut, False),
    ("get", "/polls/{poll_id}", "One poll", None, schemas.PollOut, False),
    ("post", "/polls/{poll_id}/ballots", "Cast or change your ballot (secret: send your receipt to change)",
     schemas.BallotIn, schemas.BallotReceipt, False),
    ("get", "/polls/{poll_id}/results", "The published count of a poll", None, schemas.PollResult, False),
]
ERROR_STATUSES = {"400": "Bad request", "401": "Missing or invalid token", "403": "Forbidden",
                  "404": "Not found", "409": "Conflict", "413": "Body too large", "415": "Body is not JSON", "422": "Invalid input",
                  "429": "Rate limited"}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def build_document() -> dict[str, Any]:
    components: dict[str, Any] = {}
    models = {schemas.Error}
    for _m, _p, _s, req, resp, _l in OPERATIONS:
        models.add(resp)
        if req:
            models.add(req)
    for model in sorted(models, key=lambda m: m.__name__):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            components[name] = sub
        components[model.__name__] = schema
    paths: dict[str, Any] = {}
    for method, path, summary, req, resp, is_list in OPERATIONS:
        op: dict[str, Any] = {"summary": summary, "security": [{"bearer": []}], "responses": {}}
        params = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
        if params:
            op["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "integer"}}
                                for p in params]
        if req:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(req)}}}
        body = ({"type": "object", "properties": {"items": {"type": "array", "items": _ref(resp)}}}
                if is_list else _ref(resp))
        ok = "201" if method == "post" else "200"
        op["responses"][ok] = {"description": "OK", "content": {"application/json": {"schema": body}}}
        for code, desc in ERROR_STATUSES.items():
            op["responses"][code] = {"description": desc,
                                     "content": {"application/json": {"schema": _ref(schemas.Error)}}}
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Pnyx API", "version": "1.0.0",
                 "description": "Citizen advisory panels: panels, users. Errors always use the Error shape."},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


@bp.get("/openapi.json")
def openapi_json() -> Any:
    return jsonify(build_document())
