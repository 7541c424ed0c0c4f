"""`zoneguard db up|down|status|migrate|destroy|replica`: the embedded PostGIS cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from zoneguard.cli import replica
from zoneguard.cli.common import console, handle_errors, print_json, settings
from zoneguard.errors import ValidationError

if TYPE_CHECKING:
    from zoneguard.db.embedded import ClusterStatus

app = typer.Typer(help="Manage the embedded PostGIS cluster (or check the external one).")
app.add_typer(replica.app, name="replica")


def _show(status: ClusterStatus) -> None:
    state = "[green]running[/green]" if status.running else "[yellow]stopped[/yellow]"
    if not status.initialised:
        state = "[yellow]not initialised[/yellow]"
    console.print(f"embedded PostGIS: {state}")
    console.print(f"  home:        {status.home}", highlight=False)
    where = f"{status.data_dir}"
    if status.data_dir.parent != status.home:
        where += f" (the home links to it as {status.home / 'pg'})"
    console.print(f"  data dir:    {where}", highlight=False)
    console.print(f"  socket dir:  {status.socket_dir}", highlight=False)
    console.print(f"  port:        {status.port} (127.0.0.1)")
    console.print(f"  server user: {status.server_user}")
    if status.pid:
        console.print(f"  pid:         {status.pid}")
    if status.orphaned:
        console.print("  [yellow]these files were left by an earlier home at this path: "
                      "`zoneguard db up` takes them over, `zoneguard db destroy` removes them"
                      "[/yellow]")


@app.command()
@handle_errors
def up() -> None:
    """Initialise (first use), start and migrate the embedded cluster; no-op when running."""
    from zoneguard.db.embedded import cluster_for
    from zoneguard.db.ready import ready_engine

    cfg = settings()
    if cfg.database_url:
        engine = ready_engine(cfg)
        engine.dispose()
        console.print("using the external database (ZONEGUARD_DATABASE_URL); it is migrated")
        return
    engine = ready_engine(cfg)
    engine.dispose()
    _show(cluster_for(cfg).status())


@app.command()
@handle_errors
def down() -> None:
    """Stop the embedded cluster."""
    from zoneguard.db.embedded import cluster_for

    cfg = settings()
    _show(cluster_for(cfg).down())


@app.command()
@handle_errors
def status(json_output: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Say where the embedded cluster is and whether it runs."""
    from zoneguard.db.embedded import cluster_for

    cfg = settings()
    if cfg.database_url:
        console.print("using the external database set by ZONEGUARD_DATABASE_URL")
        return
    current = cluster_for(cfg).status()
    if json_output:
        print_json({"home": current.home, "data_dir": current.data_dir,
                    "socket_dir": current.socket_dir, "port": current.port,
                    "initialised": current.initialised, "running": current.running,
                    "pid": current.pid, "server_user": current.server_user,
                    "orphaned": current.orphaned})
        return
    _show(current)
    if not current.running:
        raise typer.Exit(3)


@app.command()
@handle_errors
def migrate() -> None:
    """Apply pending migrations (starting the embedded cluster if needed)."""
    from zoneguard.db.migrate import current_revision, head_revision
    from zoneguard.db.ready import ready_engine

    engine = ready_engine(settings())
    try:
        console.print(f"schema at revision {current_revision(engine)} (head {head_revision()})")
    finally:
        engine.dispose()


@app.command()
@handle_errors
def destroy(yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask")) -> None:
    """Stop the embedded cluster and delete its data wherever it lives (cannot be undone)."""
    from zoneguard.db.embedded import cluster_for
    from zoneguard.db.replica import replicas

    cfg = settings()
    if cfg.database_url:
        raise ValidationError("已设置 ZONEGUARD_DATABASE_URL（使用外部数据库）：外部数据库"
                              "不由 ZoneGuard 管理，不会被删除")
    cluster = cluster_for(cfg)
    current = cluster.status()
    if not current.initialised and not current.data_dir.exists():
        console.print(f"no embedded cluster for {cfg.home}; nothing to delete", highlight=False)
        return
    if not yes and not typer.confirm(
            f"Delete the embedded database in {current.data_dir} (every school, premises and "
            "finding in it)?", default=False):
        console.print("未删除任何数据")
        raise typer.Exit(1)
    for copy in replicas(cluster):  # a replica of a deleted primary would stream from nothing
        copy.destroy()
    removed = cluster.destroy()
    console.print(f"deleted the embedded cluster in {removed}", highlight=False)
