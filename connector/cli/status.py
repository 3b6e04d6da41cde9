"""`connector status`: what each connection last did, where its cursors are, what is quarantined, what waits in
its outbox, who holds its lease (a daemon replica or a one-shot command working on it now), and what its last
gap audit found missing per kind; then the live replicas and what each holds."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from connector.app import App
from connector.cli.output import when
from connector.domain import OutboxStatus, RunStatus
from connector.errors import ConfigError
from connector.observability.store_gauges import AUDIT_STREAM
from connector.store import leases, replicas, reports

__all__ = ["collect_replicas", "collect_status", "print_replicas", "print_status"]

_WATCHED = (OutboxStatus.PENDING, OutboxStatus.FAILED)  # the outbox rows `status` counts per connection


def collect_status(app: App) -> list[dict[str, Any]]:
    """Gather per-connection status from the store (configured connections plus any seen in history)."""
    engine = app.migrated_engine()
    try:
        configured = {c.name: c.provider for c in app.connections}
    except ConfigError:
        configured = {}
    held = leases.holders(engine, app.clock.now())
    result = []
    with engine.connect() as conn:
        names = set(configured) | reports.run_connections(conn)
        for name in sorted(names):
            runs = reports.latest_runs(conn, name)
            cursors = reports.stream_cursors(conn, name)
            counts = reports.live_links_by_kind(conn, name)
            open_quarantine = reports.open_quarantine(conn, name)
            waiting = reports.outbox_totals(conn, name, _WATCHED)
            lease = held.get(name)
            streams = [
                {
                    "stream": r["stream"],
                    "status": r["status"],
                    "finished_at": when(r["finished_at"]) if r["finished_at"] else None,
                    "records_read": r["records_read"],
                    "created": r["created"],
                    "updated": r["updated"],
                    "quarantined": r["quarantined"],
                    "requests": r["requests"],
                    "error": r["error"],
                    "high_water": (cursors.get(r["stream"]) or {}).get("high_water"),
                }
                for r in sorted(runs, key=lambda r: r["stream"])
            ]
            result.append(
                {
                    "connection": name,
                    "provider": configured.get(name),
                    # interrupted (a SIGTERM, a redeploy) resumes from its checkpoint: not a failure
                    "failing": any(s["status"] == RunStatus.FAILED for s in streams),
                    "streams": streams,
                    "records": counts,
                    "quarantine_open": open_quarantine,
                    "outbox": {status.value: waiting.get(status, 0) for status in _WATCHED},
                    "lease": {"holder": lease[0], "expires_at": lease[1].isoformat()} if lease else None,
                    "audit": _audit(cursors.get(AUDIT_STREAM)),
                }
            )
            result[-1]["failing"] = result[-1]["failing"] or any(s["status"] == RunStatus.GAP for s in streams)
    return result


def _audit(cursor: Any) -> dict[str, Any] | None:
    """The last gap audit's result per kind (see `connector.sync.pull.gap`), None when none ran."""
    if not isinstance(cursor, dict) or not isinstance(cursor.get("kinds"), dict):
        return None
    return {"at": cursor.get("at"), "status": cursor.get("status"), "kinds": cursor["kinds"]}


def _audit_line(audit: dict[str, Any] | None) -> str:
    if audit is None:
        return "  audit          never run"
    kinds = "; ".join(
        f"{kind} missing={g.get('missing')} fetched={g.get('fetched')} remaining={g.get('remaining')}"
        for kind, g in sorted(audit["kinds"].items())
    )
    return f"  audit          {audit['status']:<11} last={audit['at'] or '-'} {kinds}"


def collect_replicas(app: App) -> list[dict[str, Any]]:
    """The live replicas (heartbeat younger than the lease TTL), each with the connections it holds, then one entry
    per other lease holder (a one-shot command, a replica gone but whose leases have not expired yet)."""
    engine = app.migrated_engine()
    now = app.clock.now()
    live = replicas.live(engine, now, timedelta(seconds=app.settings.lease_ttl_seconds))
    held: dict[str, list[str]] = {}
    for name, (holder, _) in leases.holders(engine, now).items():
        held.setdefault(holder, []).append(name)
    result = [
        {
            "replica": row.id,
            "live": True,
            "host": row.host,
            "pid": row.pid,
            "started_at": row.started_at.isoformat(),
            "heartbeat_at": row.heartbeat_at.isoformat(),
            "holds": sorted(held.pop(row.id, [])),
        }
        for row in live
    ]
    for holder, names in sorted(held.items()):
        result.append({"replica": holder, "live": False, "host": None, "pid": None, "started_at": None,
                       "heartbeat_at": None, "holds": sorted(names)})
    return result


def _replica_lines(data: list[dict[str, Any]]) -> list[str]:
    live = [r for r in data if r["live"]]
    lines = [f"replicas: {len(live)} live"]
    for item in data:
        names = item["holds"]
        shown = ", ".join(names[:10]) + (f", ... ({len(names)} in all)" if len(names) > 10 else "")
        if item["live"]:
            head = (f"  {item['replica']} (host {item['host'] or '-'} pid {item['pid'] or '-'}, started "
                    f"{item['started_at']}, heartbeat {item['heartbeat_at']})")
        else:
            head = f"  {item['replica']} (not a live replica: a command, or a replica gone whose leases run out)"
        lines.append(f"{head}: holds {len(names)}" + (f": {shown}" if names else ""))
    return lines


def print_replicas(app: App, *, as_json: bool) -> int:
    """Print only the replicas and what each holds (`connector status --replicas`); exit 0."""
    data = collect_replicas(app)
    print(json.dumps(data, indent=2) if as_json else "\n".join(_replica_lines(data)))
    return 0


def print_status(app: App, *, as_json: bool) -> int:
    """Print the status (text: the replicas after the connections); return 1 when any connection is failing."""
    data = collect_status(app)
    if as_json:
        print(json.dumps(data, indent=2))
    else:
        if not data:
            print("no connections configured and no runs recorded")
        for item in data:
            flag = "FAILING" if item["failing"] else "ok"
            records = ", ".join(f"{k}={v}" for k, v in sorted(item["records"].items())) or "no records"
            lease = item["lease"]
            print(
                f"{item['connection']} ({item['provider'] or 'not configured'}): {flag}; {records}; "
                f"quarantine={item['quarantine_open']}; outbox pending={item['outbox']['pending']} "
                f"failed={item['outbox']['failed']}; lease="
                + (f"{lease['holder']} until {lease['expires_at']}" if lease else "free")
            )
            for s in item["streams"]:
                print(
                    f"  {s['stream']:<14} {s['status']:<11} last={s['finished_at'] or '-'} read={s['records_read']} "
                    f"created={s['created']} updated={s['updated']} requests={s['requests']} "
                    f"cursor={s['high_water'] or '-'}" + (f"\n    error: {s['error']}" if s["error"] else "")
                )
            print(_audit_line(item["audit"]))
        print("\n".join(_replica_lines(collect_replicas(app))))
    return 1 if any(item["failing"] for item in data) else 0
