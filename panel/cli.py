"""``flask --app wsgi …`` admin commands: seed-demo, tokens, audit, users."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import ngettext

from .extensions import db

tokens_cli = AppGroup("tokens", help="API tokens.")
audit_cli = AppGroup("audit", help="The hash-chained audit log.")


@tokens_cli.command("create")
@click.option("--user", "email", required=True, help="Email of the user the token acts as.")
@click.option("--name", default="cli", help="A label to recognise the token later.")
def tokens_create(email: str, name: str) -> None:
    """Create an API token and print it (shown once; only its hash is stored)."""
    from .services import accounts

    user = accounts.get_user_by_email(db.session, email)
    if user is None:
        click.echo(f"error: no user with email {email!r}", err=True)
        sys.exit(2)
    click.echo(accounts.create_api_token(db.session, user, name))


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the whole chain; name the first broken event."""
    from .services import audit

    report = audit.verify(db.session)
    if report.ok:
        click.echo(ngettext("ok: %(num)d event, chain intact", "ok: %(num)d events, chain intact", report.checked))
    else:
        click.echo(f"BROKEN at event {report.first_broken_id}: {report.reason} "
                   + ngettext("(%(num)d event before it is intact)", "(%(num)d events before it are intact)",
                              report.checked), err=True)
        sys.exit(1)


@click.command("seed-demo")
@click.option("--print-links/--no-print-links", default=True)
def seed_demo(print_links: bool) -> None:
    """Load the demo panel (idempotent) and print sign-in links per role."""
    from . import demo

    demo.seed(db.session)
    if print_links:
        base = current_app.config.get("BASE_URL") or f"http://127.0.0.1:{current_app.config['PORT']}"
        click.echo(demo.describe_signins(db.session, base))


def init_app(app: Flask) -> None:
    from .cli_followup import missions_cli, outbox_cli
    app.cli.add_command(missions_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(seed_demo)
