"""`zoneguard db replica up|down|status|destroy`: local read replicas of the embedded cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from zoneguard.cli.common import console, handle_errors, print_json, settings
from zoneguard.errors import ValidationError

if TYPE_CHECKING:
    from zoneguard.db.replica import ReplicaCluster

app = typer.Typer(help="Streaming read-only replicas of the embedded cluster (partitioned "
                  "rescans, `zoneguard scan --dask`).", no_args_is_help=True)

NUMBER = typer.Option(1, "--number", "-n", min=1, max=8, help="Which replica (1-8)")


def _replica(number: int) -> ReplicaCluster:
    from zoneguard.db.embedded import cluster_for
    from zoneguard.db.replica import ReplicaCluster

    cfg = settings()
    if cfg.database_url:
        raise ValidationError("已设置 ZONEGUARD_DATABASE_URL（使用外部数据库）：请用该数据库"
                              "服务器自带的工具建立只读副本，并填入 ZONEGUARD_READ_DATABASE_URLS")
    return ReplicaCluster(cluster_for(cfg), number)


def _show(replica: ReplicaCluster) -> None:
    status = replica.status()
    state = "[green]running[/green]" if status.running else "[yellow]stopped[/yellow]"
    if not status.initialised:
        state = "[yellow]not created[/yellow]"
    console.print(f"replica {replica.number}: {state}")
    console.print(f"  data dir:    {status.data_dir}", highlight=False)
    console.print(f"  socket dir:  {status.socket_dir}", highlight=False)
    console.print(f"  port:        {status.port} (127.0.0.1)")
    lag = replica.lag_bytes() if status.running else None
    if lag is not None:
        console.print(f"  lag:         {lag} bytes of WAL not yet replayed")


@app.command()
@handle_errors
def up(number: int = NUMBER) -> None:
    """Create (pg_basebackup -R, first use) and start a replica; no-op when it runs."""
    from zoneguard.db.ready import ready_engine

    replica = _replica(number)
    ready_engine(settings()).dispose()  # the primary runs and is migrated
    replica.up()
    _show(replica)


@app.command()
@handle_errors
def down(number: int = NUMBER) -> None:
    """Stop a replica (its slot keeps the primary's WAL until it is started again)."""
    replica = _replica(number)
    replica.down()
    _show(replica)


@app.command()
@handle_errors
def status(json_output: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """List the replicas of the embedded cluster, where they live and how far behind they are."""
    from zoneguard.db.embedded import cluster_for
    from zoneguard.db.replica import replicas

    cfg = settings()
    found = replicas(cluster_for(cfg)) if not cfg.database_url else []
    if json_output:
        print_json([{"number": r.number, "data_dir": s.data_dir, "port": s.port,
                     "running": s.running, "lag_bytes": r.lag_bytes() if s.running else None}
                    for r in found for s in [r.status()]])
        return
    if not found:
        console.print("没有只读副本（可用 zoneguard db replica up 创建）")
        raise typer.Exit(3)
    for replica in found:
        _show(replica)


@app.command()
@handle_errors
def destroy(number: int = NUMBER,
            yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask")) -> None:
    """Stop a replica, delete its files and drop its replication slot on the primary."""
    replica = _replica(number)
    if not yes and not typer.confirm(f"Delete replica {number}?", default=False):
        raise typer.Exit(1)
    console.print(f"deleted replica {number} in {replica.destroy()}", highlight=False)
