"""Users, passwords, magic links and API tokens.

Secrets (magic-link tokens, API tokens) are random 256-bit values shown once; only their SHA-256
is stored, so a database leak does not leak sign-in capability. Passwords use Argon2id.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from ..errors import AuthenticationFailed, Conflict, ValidationFailed
from ..models import LINK_ROLES, ROLES, ApiToken, MagicLink, Mission, User
from ..models.base import utcnow
from . import audit
from .lookup import get_or_404

_hasher = PasswordHasher()
# Verifying against a dummy hash for unknown emails keeps response time independent of existence.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def configure_hasher(time_cost: int, memory_cost: int, parallelism: int) -> None:
    """Set the Argon2id cost (config ARGON2_*); tests use a cheap cost, production the default.

    Existing hashes keep verifying (their parameters are stored in them) and are re-hashed with
    the current cost at the next successful sign-in.
    """
    global _hasher, _DUMMY_HASH
    if (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism) == (time_cost, memory_cost, parallelism):
        return
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _DUMMY_HASH = _hasher.hash("not-a-real-password")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_user_fields(email: str | None, name: str | None, role: str | None, password: str | None,
                         *, creating: bool) -> None:
    if creating or email is not None:
        if not email or not EMAIL_RE.match(email.strip()):
            raise ValidationFailed("Enter a valid email address.", field="email")
    if creating or name is not None:
        if not name or not name.strip():
            raise ValidationFailed("Name is required.", field="name")
        if len(name) > 200:
            raise ValidationFailed("Name must be at most 200 characters.", field="name")
    if creating or role is not None:
        if role not in ROLES:
            raise ValidationFailed(f"Role must be one of: {', '.join(ROLES)}.", field="role")
    if password is not None and len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"Password must be at least {MIN_PASSWORD} characters.", field="password")


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.execute(select(User).where(User.email == normalise_email(email))).scalar_one_or_none()


def create_user(session: Session, *, email: str, name: str, role: str, password: str | None = None,
                locale: str = "en", timezone: str = "UTC", mission_id: int | None = None,
                actor_id: int | None = None, commit: bool = True) -> User:
    validate_user_fields(email, name, role, password, creating=True)
    if role in LINK_ROLES and password:
        raise ValidationFailed("Citizens and mission users sign in by personal link, not password.",
                               field="password")
    if role == "mission":
        if mission_id is None or session.get(Mission, mission_id) is None:
            raise ValidationFailed("Mission users need an existing mission.", field="mission_id")
    if get_user_by_email(session, email):
        raise Conflict("A user with this email already exists.", field="email")
    user = User(email=normalise_email(email), name=name.strip(), role=role, locale=locale,
                timezone=timezone, mission_id=mission_id,
                password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    audit.record(session, "user.created", actor_id=actor_id, subject_type="user", subject_id=user.id,
                 payload={"role": role})
    if commit:
        session.commit()
    return user


def update_user(session: Session, user: User, *, actor_id: int | None, name: str | None = None,
                role: str | None = None, locale: str | None = None, timezone: str | None = None,
                active: bool | None = None, password: str | None = None) -> User:
    validate_user_fields(None, name, role, password, creating=False)
    # Every check before any change, so a refused update leaves the object untouched.
    if role is not None and role != user.role and role == "mission" and user.mission_id is None:
        raise ValidationFailed("Mission users need a mission.", field="role")
    if password is not None and (role or user.role) in LINK_ROLES:
        raise ValidationFailed("Citizens and mission users sign in by personal link, not password.",
                               field="password")
    if actor_id is not None and actor_id == user.id and user.role == "admin":
        # An administrator cannot lock themselves out; another administrator must do it.
        if active is False:
            raise ValidationFailed("You cannot deactivate your own account.", field="active")
        if role is not None and role != "admin":
            raise ValidationFailed("You cannot remove your own administrator role.", field="role")
    changed: dict[str, object] = {}
    if name is not None:
        user.name = name.strip()
        changed["name"] = True
    if role is not None and role != user.role:
        changed["role"] = [user.role, role]
        user.role = role
    if locale is not None:
        user.locale = locale
    if timezone is not None:
        user.timezone = timezone
    if active is not None and active != user.active:
        user.active = active
        user.session_version += 1
        changed["active"] = active
    if password is not None:
        user.password_hash = hash_password(password)
        user.session_version += 1
        changed["password"] = True
    if changed:
        audit.record(session, "user.updated", actor_id=actor_id, subject_type="user", subject_id=user.id,
                     payload=changed)
    session.commit()
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """Check a staff sign-in; the error never says whether the email exists."""
    user = get_user_by_email(session, email or "")
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password or "")
        ok = user is not None and user.password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.active:
        raise AuthenticationFailed("Email or password is not correct.", field="password")
    if _hasher.check_needs_rehash(stored):
        user.password_hash = hash_password(password)
    user.last_seen_at = utcnow()
    session.commit()
    return user


def issue_magic_link(session: Session, user: User, *, ttl_hours: int = 72, purpose: str = "signin",
                     commit: bool = True) -> str:
    token = secrets.token_urlsafe(32)
    session.add(MagicLink(user_id=user.id, token_hash=hash_secret(token), purpose=purpose,
                          expires_at=utcnow() + timedelta(hours=ttl_hours)))
    if commit:
        session.commit()
    else:
        session.flush()
    return token


def consume_magic_link(session: Session, token: str) -> User:
    """Single use: the link is marked used in the same transaction that signs the user in."""
    if not token or len(token) > 200:
        raise AuthenticationFailed("This sign-in link is not valid. Ask for a new one.", code="link_invalid")
    link = session.execute(
        select(MagicLink).where(MagicLink.token_hash == hash_secret(token)).with_for_update()
    ).scalar_one_or_none()
    if link is None:
        raise AuthenticationFailed("This sign-in link is not valid. Ask for a new one.", code="link_invalid")
    if link.used_at is not None:
        raise AuthenticationFailed("This sign-in link has already been used. Ask for a new one.",
                                   code="link_used")
    if link.expires_at < utcnow():
        raise AuthenticationFailed("This sign-in link has expired. Ask for a new one.", code="link_expired")
    user = link.user
    if not user.active:
        raise AuthenticationFailed("This account is deactivated.", code="account_inactive")
    # Compare-and-set: of two simultaneous uses only one finds the link unused (SQLite has no
    # SELECT … FOR UPDATE, so the row lock above is not enough there).
    used = session.execute(
        update(MagicLink).where(MagicLink.id == link.id, MagicLink.used_at.is_(None)).values(used_at=utcnow())
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise AuthenticationFailed("This sign-in link has already been used. Ask for a new one.",
                                   code="link_used")
    user.last_seen_at = utcnow()
    session.commit()
    return user


def create_api_token(session: Session, user: User, name: str = "cli") -> str:
    token = "pnyx_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:100], prefix=token[:12], token_hash=hash_secret(token)))
    audit.record(session, "token.created", actor_id=user.id, subject_type="user", subject_id=user.id,
                 payload={"name": name[:100], "prefix": token[:12]})
    session.commit()
    return token


def user_for_api_token(session: Session, token: str) -> User | None:
    if not token or len(token) > 200:
        return None
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_secret(token), ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if row is None or not row.user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        row.last_used_at = now  # throttled write: not every request
        session.commit()
    return row.user


# Built once: the socket connect path runs this for every connection (see user_id_for_api_token).
_TOKEN_USER = (select(ApiToken.id, ApiToken.user_id, ApiToken.last_used_at)
               .join(User, User.id == ApiToken.user_id)
               .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None),
                      User.active.is_(True)))


def user_id_for_api_token(session: Session, token: str) -> int | None:
    """The id of the active user an unrevoked API token belongs to, else None (socket connects).

    Same rules as :func:`user_for_api_token`, in one query without loading ORM objects: a
    connection needs only the id, and a burst of 1,000 connects paid for two entity loads, a flush
    and two reloads after the commit each. ``last_used_at`` is still written at most every 5 min.
    """
    if not token or len(token) > 200:
        return None
    row = session.execute(_TOKEN_USER, {"token_hash": hash_secret(token)}).first()
    if row is None:
        return None
    token_id, user_id, last_used = row
    now = utcnow()
    if last_used is None or now - last_used > timedelta(minutes=5):
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
                        .execution_options(synchronize_session=False))
        session.commit()
    return int(user_id)


def load_session_user(session: Session, ident: str) -> User | None:
    """Flask-Login loader: ``id:session_version`` so a password change ends old sessions."""
    try:
        uid_s, ver_s = ident.split(":", 1)
        uid, ver = int(uid_s), int(ver_s)
    except ValueError:
        return None
    user = session.get(User, uid)
    if user is None or user.session_version != ver or not user.active:
        return None
    return user


def get_user(session: Session, user_id: int) -> User:
    return get_or_404(session, User, user_id, field="id", label="user")


def count_users(session: Session) -> int:
    return int(session.execute(select(func.count(User.id))).scalar_one())

