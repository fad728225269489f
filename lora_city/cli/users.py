"""``lora-city user create|disable|enable``: portal accounts (lessees, city staff, technicians). The password is asked twice
on the terminal (never on the command line, where it would land in the shell history)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from lora_city.cli.config import load_settings, open_database
from lora_city.errors import LoraCityError
from lora_city.portal.users import create_user, set_active
from lora_city.services.principal import Role
from lora_city.storage.bootstrap import CITY_SLUG, ensure_city_tenant
from lora_city.storage.db import make_session_factory

users_app = typer.Typer(help="Portal user accounts.", no_args_is_help=True)


@users_app.command("create")
def create(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="Login e-mail"),
    role: Role = typer.Option(..., "--role", help="admin, operator, technician, tenant_admin or tenant_viewer"),
    tenant: str = typer.Option("city", "--tenant", help="Slug of the user's tenant"),
    name: str = typer.Option("", "--name", help="Display name (default: the e-mail)"),
    language: str = typer.Option("fr", "--language", help="fr or en"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                 help="Asked on the terminal when not given (LORA_CITY_NEW_PASSWORD also works)",
                                 envvar="LORA_CITY_NEW_PASSWORD"),
) -> None:
    """Create a user who logs in to the web portal."""
    engine = open_database(load_settings(ctx))
    try:
        with make_session_factory(engine)() as session:
            if tenant == CITY_SLUG:
                ensure_city_tenant(session)  # a fresh installation's first administrator needs it
            user = create_user(session, email=email, password=password, role=role, tenant_slug=tenant,
                               display_name=name, language=language, now=datetime.now(UTC))
            typer.echo(f"user {user.email} ({role.value}) created")
    except LoraCityError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def _set_active(ctx: typer.Context, email: str, active: bool) -> None:
    engine = open_database(load_settings(ctx))
    try:
        with make_session_factory(engine)() as session:
            user = set_active(session, email, active)
            typer.echo(f"user {user.email} {'enabled' if active else 'disabled; its portal sessions ended'}")
    except LoraCityError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


@users_app.command("disable")
def disable(ctx: typer.Context, email: str = typer.Argument(..., help="Login e-mail")) -> None:
    """Disable an account: it can no longer log in, and its open portal sessions end at once."""
    _set_active(ctx, email, False)


@users_app.command("enable")
def enable(ctx: typer.Context, email: str = typer.Argument(..., help="Login e-mail")) -> None:
    """Enable a disabled account again."""
    _set_active(ctx, email, True)
