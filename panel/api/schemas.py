"""Pydantic schemas: the single source for input validation *and* the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["admin", "organizer", "facilitator", "citizen", "mission", "observer"]
PanelStatus = Literal["draft", "recruiting", "selected", "deliberating", "voting", "reporting", "closed"]
LangCode = str


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return any(_has_nul(v) for v in value)
    return False


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL; refuse it here, naming the field, on every database.
        if _has_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


class PanelCreate(Strict):
    title: str = Field(min_length=1, max_length=200)
    question: str = Field(min_length=1, max_length=5000)
    mandate: str = Field(default="", max_length=10000)
    size: int = Field(ge=1, le=10000, strict=True)
    languages: list[LangCode] = Field(default_factory=lambda: ["en"], min_length=1, max_length=20)


class PanelUpdate(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    question: str | None = Field(default=None, min_length=1, max_length=5000)
    mandate: str | None = Field(default=None, max_length=10000)
    size: int | None = Field(default=None, ge=1, le=10000, strict=True)
    languages: list[LangCode] | None = Field(default=None, min_length=1, max_length=20)
    status: PanelStatus | None = None


class PanelOut(BaseModel):
    id: int
    slug: str
    title: str
    question: str
    mandate: str
    size: int
    languages: list[str]
    status: PanelStatus
    created_at: datetime


class UserCreate(Strict):
    email: str = Field(min_length=3, max_length=254)
    name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str | None = Field(default=None, min_length=10, max_length=200)
    locale: str = Field(default="en", max_length=10)
    timezone: str = Field(default="UTC", max_length=64)
    mission_id: int | None = None


class UserUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    locale: str | None = Field(default=None, max_length=10)
    timezone: str | None = Field(default=None, max_length=64)
    active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=200)


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: Role
    locale: str
    timezone: str
    active: bool
    mission_id: int | None


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None


class Error(BaseModel):
    error: ErrorDetail


class PollOut(BaseModel):
    id: int
    panel_id: int
    proposal_id: int | None
    title: str
    ballot_type: Literal["yesno", "approval", "score", "ranked", "grades"]
    method: str
    candidates: list[str]
    seats: int
    score_min: int
    score_max: int
    grade_scale: list[str] | None
    secret: bool
    status: Literal["draft", "open", "closed", "published"]
    state: Literal["draft", "scheduled", "open", "closed"]
    opens_at: datetime | None
    closes_at: datetime | None


class BallotIn(Strict):
    """One ballot in the CLI's JSON shape, e.g. {"ranking": ["a", ["b", "c"]]}; receipt to change a secret one."""

    ballot: dict[str, Any]
    receipt: str | None = Field(default=None, max_length=64)


class BallotReceipt(BaseModel):
    poll_id: int
    changed: bool
    receipt: str | None


class PollResult(BaseModel):
    """The stored count (docs/voting-app.md lists every field)."""

    model_config = ConfigDict(extra="allow")
    method: str
    winners: list[str]
    ranking: list[list[str]]
    scores: dict[str, float]
    tied: bool
    ballots: int
