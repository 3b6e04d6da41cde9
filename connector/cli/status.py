"""`connector status`: what each connection last did, where its cursors are, what is quarantined, what waits in
its outbox, who holds its lease (a daemon replica or a one-shot command working on it now), and what its last
gap audit found missing per kind."""

from __future__ import annotations

import json
from typing import Any

from connector.app import App
from connector.cli.output import when
from connector.errors import ConfigError
from connector.observability.store_gauges import AUDIT_STREAM
from connector.store import leases, reports

__all__ = ["collect_status", "print_status"]


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
            waiting = reports.outbox_totals(conn, name, ("pending", "failed"))
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
                    "failing": any(s["status"] == "failed" for s in streams),
                    "streams": streams,
                    "records": counts,
                    "quarantine_open": open_quarantine,
                    "outbox": {"pending": waiting.get("pending", 0), "failed": waiting.get("failed", 0)},
                    "lease": {"holder": lease[0], "expires_at": lease[1].isoformat()} if lease else None,
                    "audit": _audit(cursors.get(AUDIT_STREAM)),
                }
            )
            result[-1]["failing"] = result[-1]["failing"] or any(s["status"] == "gap" for s in streams)
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


def print_status(app: App, *, as_json: bool) -> int:
    """Print the status; return 1 when any connection is failing."""
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
    return 1 if any(item["failing"] for item in data) else 0
