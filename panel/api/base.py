"""Shared API plumbing: the blueprint, bearer auth, body parsing and error translation."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, g, jsonify, request
from pydantic import BaseModel, ValidationError

from ..errors import ServiceError, ValidationFailed
from ..errors_http import error_response
from ..extensions import db
from ..models import User
from ..services import accounts

bp = Blueprint("api", __name__, url_prefix="/api/v1")
M = TypeVar("M", bound=BaseModel)


@bp.errorhandler(ServiceError)
def _service_error(e: ServiceError) -> Any:
    db.session.rollback()
    return error_response(e.status, e.message, code=e.code, field=e.field)


def current_api_user() -> User:
    return g.api_user  # type: ignore[no-any-return]


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return error_response(401, "Send an API token as 'Authorization: Bearer <token>'.",
                                  field="Authorization")
        user = accounts.user_for_api_token(db.session, token.strip())
        if user is None:
            return error_response(401, "The API token is not valid or was revoked.", field="Authorization")
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper


def parse_body(model: type[M]) -> M:
    """Validate the JSON body against ``model``; errors name the first offending field."""
    if not request.is_json:
        raise UnsupportedMediaType("Send a JSON body with Content-Type: application/json.", field="body")
    data = request.get_json(silent=True)
    if data is None:
        raise ServiceError("The body is not valid JSON.", field="body", code="malformed_json")
    if not isinstance(data, dict):
        raise ServiceError("The body must be a JSON object.", field="body", code="malformed_json")
    try:
        return model.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(x) for x in err.get("loc", ())) or None
        msg = err.get("msg", "invalid value")
        if err.get("type") == "extra_forbidden":
            msg = f"Unknown field '{field}'."
        raise ValidationFailed(f"{field}: {msg}" if field else msg, field=field) from None


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"


def created(body: dict[str, Any], location: str) -> Any:
    resp = jsonify(body)
    resp.status_code = 201
    resp.headers["Location"] = location
    return resp
