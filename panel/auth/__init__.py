"""Sign-in: staff by email + password, citizens and mission users by personal magic link."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import AuthenticationFailed
from ..extensions import db, limiter, login_manager
from ..services import accounts

bp = Blueprint("auth", __name__, url_prefix="/auth")


@login_manager.user_loader
def _load(ident: str) -> Any:
    return accounts.load_session_user(db.session, ident)


login_manager.login_message = None  # type: ignore[assignment]


def is_local_path(target: str | None) -> bool:
    """A same-site absolute path. Browsers ignore tabs/newlines and read ``\\`` as ``/``, so
    ``/\\evil`` or ``/<TAB>/evil`` would leave the site: any such character is refused."""
    if not target or not target.startswith("/") or len(target) > 2000:
        return False
    if any(ord(c) < 33 or c == "\\" for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and not target.startswith("//")


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    return target if target and is_local_path(target) else url_for("web.dashboard")


def _signin_limit() -> str:
    return str(current_app.config["SIGNIN_RATE_LIMIT"])


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit(_signin_limit, methods=["POST"])
def signin() -> Any:
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("web.dashboard"))
    error = None
    email = ""
    if request.method == "POST":
        email = (request.form.get("email") or "").strip()[:254]
        password = request.form.get("password") or ""
        if not email:
            error = _("Enter your email address.")
        elif not password:
            error = _("Enter your password.")
        else:
            try:
                user = accounts.authenticate(db.session, email, password)
            except AuthenticationFailed:
                error = _("Email or password is not correct.")
            else:
                login_user(user)
                return redirect(_safe_next(request.args.get("next")))
        return render_template("auth/signin.html", error=error, email=email), 401 if error else 200
    return render_template("auth/signin.html", error=None, email=email)


@bp.route("/link/<token>", methods=["GET"])
@limiter.limit(_signin_limit)
def link(token: str) -> Any:
    """Landing page of a personal link. Sign-in happens on POST so mail scanners can't use it up."""
    return render_template("auth/link.html", token=token)


@bp.route("/link/<token>", methods=["POST"])
@limiter.limit(_signin_limit)
def link_consume(token: str) -> Any:
    try:
        user = accounts.consume_magic_link(db.session, token)
    except AuthenticationFailed as e:
        return render_template("auth/link.html", token=None, error=e.message), 400
    login_user(user)
    flash(_("Welcome, %(name)s. You are signed in.", name=user.name), "success")
    return redirect(url_for("web.dashboard"))


@bp.route("/signout", methods=["POST"])
@login_required
def signout() -> Any:
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.signin"))


def init_app(app: Flask) -> None:
    accounts.configure_hasher(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_COST"],
                              app.config["ARGON2_PARALLELISM"])
    app.register_blueprint(bp)
