"""`zoneguard keys create|list|revoke`: API keys for the HTTP API (secrets shown once)."""

from __future__ import annotations

import typer
from rich.table import Table

from zoneguard.cli.common import console, handle_errors, open_session, print_json

app = typer.Typer(help="Create, list and revoke API keys (roles: admin, governance, bureau, "
                       "viewer, grid, school).", no_args_is_help=True)


@app.command("create")
@handle_errors
def create_command(
    role: str = typer.Option(..., "--role", help="admin | governance | bureau | viewer | grid "
                             "(网格员, needs --region) | school (needs --school)"),
    categories: str | None = typer.Option(
        None, "--categories", help="Comma-separated premises categories the key is limited to"),
    region: str | None = typer.Option(
        None, "--region", help="GB/T 2260 code prefix the key is limited to (e.g. 4301)"),
    school: str | None = typer.Option(
        None, "--school", help="Code of the one school a school key is bound to"),
    name: str | None = typer.Option(None, "--name", help="Who or what holds the key"),
    json_output: bool = typer.Option(False, "--json", help="Print the key as JSON"),
) -> None:
    """Create a key and print its secret token (it is shown only this once)."""
    from zoneguard.services.access.keys import create_key

    cats = [c.strip() for c in categories.split(",") if c.strip()] if categories else None
    with open_session() as session:
        new = create_key(session, role=role, name=name or f"{role} key", categories=cats,
                         region_prefix=region, actor="cli", school=school)
    if json_output:
        print_json({**new.info.as_dict(), "token": new.token})
        return
    console.print(f"created key {new.info.id} ({new.info.role.value}, "
                  f"categories: {', '.join(new.info.categories or ['all'])}, "
                  f"region: {new.info.region_prefix or 'all'}"
                  + (f", school: {school}" if school else "") + ")", highlight=False)
    console.print("token (store it now; it cannot be shown again):")
    console.print(new.token, highlight=False, soft_wrap=True)


@app.command("list")
@handle_errors
def list_command(
    json_output: bool = typer.Option(False, "--json", help="Print the keys as JSON"),
) -> None:
    """List keys (never their secrets)."""
    from zoneguard.services.access.keys import list_keys

    with open_session() as session:
        keys = list_keys(session)
    if json_output:
        print_json([k.as_dict() for k in keys])
        return
    table = Table("id", "name", "prefix", "role", "categories", "region", "created", "revoked")
    for k in keys:
        table.add_row(str(k.id), k.name, k.prefix, k.role.value,
                      ", ".join(k.categories) if k.categories else "all",
                      k.region_prefix or "all", f"{k.created_at:%Y-%m-%d %H:%M}",
                      f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "")
    console.print(table)


@app.command("revoke")
@handle_errors
def revoke_command(key_id: int = typer.Argument(..., help="Id of the key (see keys list)")) -> None:
    """Revoke a key at once."""
    from zoneguard.services.access.keys import revoke_key

    with open_session() as session:
        info = revoke_key(session, key_id, actor="cli")
    console.print(f"key {info.id} ({info.name}) revoked at {info.revoked_at:%Y-%m-%d %H:%M:%S}")
