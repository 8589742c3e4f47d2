"""Server-rendered pages: dashboard per role, panels, user admin, health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select, text

from ..errors import ServiceError
from ..extensions import db
from ..models import ROLES, AuditEvent, Mission, Panel, User
from ..services import accounts, citizen_home, panels
from ..services.permissions import authorize, can

bp = Blueprint("web", __name__)


@bp.app_context_processor
def _inject() -> dict[str, Any]:
    from flask import current_app
    from flask_babel import get_locale

    loc = str(get_locale() or "en")
    return {
        "lang": loc,
        "text_dir": "rtl" if loc.split("_")[0] in current_app.config["RTL_LANGUAGES"] else "ltr",
        "can": lambda action, panel_id=None: can(db.session, current_user, action, panel_id),
        "languages": current_app.config["LANGUAGES"],
    }


@bp.route("/healthz")
def healthz() -> Any:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as e:  # noqa: BLE001 - report, never crash the probe
        db.session.rollback()
        return {"status": "error", "database": "unreachable", "detail": type(e).__name__}, 503
    return {"status": "ok", "database": "ok"}


@bp.route("/")
def index() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    recent = db.session.execute(
        select(Panel).where(Panel.status != "draft").order_by(Panel.created_at.desc()).limit(5)
    ).scalars().all()
    return render_template("index.html", panels=recent)


@bp.route("/dashboard")
@login_required
def dashboard() -> Any:
    my_panels = panels.list_panels(db.session, current_user)
    ctx: dict[str, Any] = {"panels": my_panels}
    if current_user.role == "admin":
        ctx["user_count"] = accounts.count_users(db.session)
        ctx["audit_count"] = db.session.execute(select(db.func.count(AuditEvent.id))).scalar_one()
    if current_user.role == "mission":
        ctx["mission"] = db.session.get(Mission, current_user.mission_id)
    if current_user.role == "citizen":
        ctx["homes"] = citizen_home.for_user(db.session, current_user)
    return render_template("dashboard.html", **ctx)


@bp.route("/panels")
@login_required
def panel_list() -> Any:
    return render_template("panels/list.html", panels=panels.list_panels(db.session, current_user))


@bp.route("/panels/new", methods=["GET", "POST"])
@login_required
def panel_new() -> Any:
    authorize(db.session, current_user, "panel.create")
    form = request.form
    if request.method == "POST":
        try:
            size = int(form.get("size", ""))
        except ValueError:
            return render_template("panels/new.html", form=form, error=_("Size must be a whole number."),
                                   field="size"), 422
        langs = [x.strip() for x in (form.get("languages") or "en").split(",") if x.strip()]
        try:
            panel = panels.create_panel(db.session, current_user, title=form.get("title", ""),
                                        question=form.get("question", ""), size=size,
                                        mandate=form.get("mandate", ""), languages=langs)
        except ServiceError as e:
            db.session.rollback()
            return render_template("panels/new.html", form=form, error=e.message, field=e.field), e.status
        flash(_("Panel created. Next: upload the volunteer pool."), "success")
        return redirect(url_for("web.panel_detail", panel_id=panel.id))
    return render_template("panels/new.html", form=form, error=None, field=None)


@bp.route("/panels/<int:panel_id>")
@login_required
def panel_detail(panel_id: int) -> Any:
    panel = panels.view_panel(db.session, current_user, panel_id)
    return render_template("panels/detail.html", panel=panel, members=panels.members(db.session, panel.id),
                           pool_size=panels.pool_size(db.session, panel.id))


@bp.route("/panels/<int:panel_id>/members", methods=["POST"])
@login_required
def panel_member_add(panel_id: int) -> Any:
    """Staff join a panel by email (citizens join through the lottery and their invitation)."""
    panel = panels.get_panel(db.session, panel_id)
    authorize(db.session, current_user, "member.manage", panel.id)
    email = (request.form.get("email") or "").strip()[:254]
    role = request.form.get("role") or ""
    try:
        if role not in panels.STAFF_MEMBER_ROLES:
            raise ServiceError(_("Choose organizer, facilitator or observer."), field="role")
        user = accounts.get_user_by_email(db.session, email) if email else None
        if user is None:
            raise ServiceError(_("No user with this email. Add them under Users first."), field="email")
        if user.role not in (role, "admin"):
            raise ServiceError(_("%(name)s is a %(role)s and cannot join as %(as)s.", name=user.name,
                                 role=user.role, **{"as": role}), field="role")
        panels.add_member(db.session, current_user, panel.id, user, role)
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
        return redirect(url_for("web.panel_detail", panel_id=panel.id)), 303
    flash(_("%(name)s joined the panel as %(role)s.", name=user.name, role=role), "success")
    return redirect(url_for("web.panel_detail", panel_id=panel.id))


@bp.route("/users")
@login_required
def user_list() -> Any:
    authorize(db.session, current_user, "user.view")
    role = request.args.get("role")
    stmt = select(User).order_by(User.role, User.name)
    if role in ROLES:
        stmt = stmt.where(User.role == role)
    users = db.session.execute(stmt).scalars().all()
    return render_template("users/list.html", users=users, roles=ROLES, role=role)


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def user_new() -> Any:
    authorize(db.session, current_user, "user.admin")
    missions = db.session.execute(select(Mission).order_by(Mission.name)).scalars().all()
    form = request.form
    if request.method == "POST":
        mission_id = form.get("mission_id") or None
        try:
            user = accounts.create_user(
                db.session, email=form.get("email", ""), name=form.get("name", ""), role=form.get("role", ""),
                password=form.get("password") or None, actor_id=current_user.id,
                mission_id=int(mission_id) if mission_id and mission_id.isdigit() else None)
        except ServiceError as e:
            db.session.rollback()
            return render_template("users/edit.html", form=form, user=None, roles=ROLES, missions=missions,
                                   error=e.message, field=e.field), e.status
        flash(_("User %(name)s created.", name=user.name), "success")
        return redirect(url_for("web.user_list"))
    return render_template("users/edit.html", form=form, user=None, roles=ROLES, missions=missions,
                           error=None, field=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def user_edit(user_id: int) -> Any:
    authorize(db.session, current_user, "user.admin")
    user = accounts.get_user(db.session, user_id)
    form = request.form
    link = None
    if request.method == "POST":
        action = form.get("action", "save")
        try:
            if action == "link":
                if user.role not in ("citizen", "mission"):
                    raise ServiceError(_("Personal links are for citizens and mission users."), field="action")
                token = accounts.issue_magic_link(db.session, user)
                link = url_for("auth.link", token=token, _external=True)
            else:
                accounts.update_user(
                    db.session, user, actor_id=current_user.id, name=form.get("name"),
                    role=form.get("role"), active=form.get("active") == "on",
                    password=form.get("password") or None)
                flash(_("Saved."), "success")
                return redirect(url_for("web.user_edit", user_id=user.id))
        except ServiceError as e:
            db.session.rollback()
            return render_template("users/edit.html", form=form, user=user, roles=ROLES, missions=[],
                                   error=e.message, field=e.field), e.status
    return render_template("users/edit.html", form={}, user=user, roles=ROLES, missions=[], error=None,
                           field=None, link=link)


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str) -> Any:
    from flask import current_app

    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    if current_user.is_authenticated:
        current_user.locale = code
        db.session.commit()
    session["lang"] = code
    from ..auth import is_local_path

    target = request.form.get("next") or ""
    if not is_local_path(target):
        target = url_for("web.index")
    return redirect(target)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    from . import lottery
    app.register_blueprint(lottery.bp)
    from . import followup, public
    app.register_blueprint(followup.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(public.open_data)
    from . import decisions
    app.register_blueprint(decisions.bp)
