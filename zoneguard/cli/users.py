"""`zoneguard users create|list|disable|reset-password`: people who log in to the workbench.

The password is read from standard input: typed twice without echo on a terminal, or the
first line of a pipe (`echo "$PW" | zoneguard users create …`), never an argument
(arguments are visible to every user of the machine).
"""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from zoneguard.cli.common import console, err_console, handle_errors, open_session, print_json
from zoneguard.errors import ValidationError

app = typer.Typer(help="Create, list and disable workbench users (roles: admin, governance, "
                       "bureau, viewer, grid, school); reset their passwords.",
                  no_args_is_help=True)


def read_password() -> str:
    """The new password: prompted twice without echo on a terminal, else stdin's first line."""
    if sys.stdin.isatty():
        while True:  # click's own confirmation prompt and its mismatch error speak English
            value: str = typer.prompt("密码", hide_input=True, err=True)
            again: str = typer.prompt("再次输入密码", hide_input=True, err=True)
            if value == again:
                return value
            err_console.print("[red]错误：[/red]两次输入的密码不一致，请重新输入", highlight=False)
    line = sys.stdin.readline()
    if not line:
        raise ValidationError("标准输入中没有密码")
    return line.rstrip("\r\n")


@app.command("create")
@handle_errors
def create_command(
    username: str = typer.Argument(..., help="Login name (a-z 0-9 . _ -)"),
    role: str = typer.Option(..., "--role", help="admin | governance | bureau | viewer | grid "
                             "(网格员, needs --region) | school (needs --school)"),
    region: str | None = typer.Option(
        None, "--region", help="GB/T 2260 code prefix the user is limited to (e.g. 4301)"),
    categories: str | None = typer.Option(
        None, "--categories", help="Comma-separated premises categories the user is limited to"),
    school: str | None = typer.Option(
        None, "--school", help="Code of the one school a school user is bound to"),
    display_name: str | None = typer.Option(
        None, "--display-name", help="The name printed on records (e.g. 张三)"),
) -> None:
    """Create a user; the password is read from standard input."""
    from zoneguard.services.access.users import create_user

    cats = [c.strip() for c in categories.split(",") if c.strip()] if categories else None
    password = read_password()
    with open_session() as session:
        info = create_user(session, username=username, password=password, role=role,
                           display_name=display_name, categories=cats, region_prefix=region,
                           school=school)
    console.print(f"created user {info.username} ({info.display_name}, {info.role.value}, "
                  f"categories: {', '.join(info.categories or ['all'])}, "
                  f"region: {info.region_prefix or 'all'}"
                  + (f", school: {school}" if school else "") + ")", highlight=False)


@app.command("list")
@handle_errors
def list_command(
    json_output: bool = typer.Option(False, "--json", help="Print the users as JSON"),
) -> None:
    """List users (never their password hashes)."""
    from zoneguard.services.access.users import list_users

    with open_session() as session:
        users = list_users(session)
    if json_output:
        print_json([u.as_dict() for u in users])
        return
    table = Table("id", "username", "name", "role", "categories", "region", "created",
                  "disabled")
    for u in users:
        table.add_row(str(u.id), u.username, u.display_name, u.role.value,
                      ", ".join(u.categories) if u.categories else "all",
                      u.region_prefix or "all", f"{u.created_at:%Y-%m-%d %H:%M}",
                      f"{u.disabled_at:%Y-%m-%d %H:%M}" if u.disabled_at else "")
    console.print(table)


@app.command("disable")
@handle_errors
def disable_command(username: str = typer.Argument(..., help="Login name")) -> None:
    """Disable a user and end their sessions at once."""
    from zoneguard.services.access.users import disable_user

    with open_session() as session:
        info = disable_user(session, username)
    console.print(f"user {info.username} disabled", highlight=False)


@app.command("reset-password")
@handle_errors
def reset_password_command(username: str = typer.Argument(..., help="Login name")) -> None:
    """Set a user's password (read from standard input) and end their sessions."""
    from zoneguard.services.access.users import reset_password

    password = read_password()
    with open_session() as session:
        info = reset_password(session, username, password)
    console.print(f"password of {info.username} reset; their sessions are ended",
                  highlight=False)
