"""Errors raised by services; the web and API layers turn them into 4xx responses."""

from __future__ import annotations


class ServiceError(Exception):
    """Base error: ``code`` is machine-readable, ``field`` names the offending input if any."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class ValidationFailed(ServiceError):
    status = 422
    code = "validation_failed"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class PermissionDenied(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class AuthenticationFailed(ServiceError):
    status = 401
    code = "unauthorized"
