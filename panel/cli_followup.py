"""``flask --app wsgi missions seed`` and ``flask --app wsgi outbox work|status``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .extensions import db

missions_cli = AppGroup("missions", help="The missions of the 193 UN member states.")
outbox_cli = AppGroup("outbox", help="Outgoing mail and webhooks.")


@missions_cli.command("seed")
def missions_seed() -> None:
    """Create or refresh one mission per member state (idempotent)."""
    from .services import missions

    created, updated = missions.seed_missions(db.session)
    click.echo(f"missions: {created} created, {updated} updated, {len(missions.member_states())} member states")


@outbox_cli.command("work")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between runs.")
def outbox_work(once: bool, interval: float) -> None:
    """Deliver due mail and webhooks; retry failures with exponential backoff (SMTP_HOST/SMTP_PORT)."""
    from .services import notifications

    notifications.run_worker(current_app._get_current_object(), interval=interval, once=once)  # type: ignore[attr-defined]


@outbox_cli.command("status")
def outbox_status() -> None:
    """Counts of pending, sent and failed messages."""
    from sqlalchemy import func, select

    from .models import OutboxMessage

    for status, n in db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)):
        click.echo(f"{status}: {n}")
