"""Logs and metrics: structured logging, Prometheus metrics, and the /metrics /healthz /readyz server.

Modules (import them directly; this package imports nothing, so the HTTP layer can use `metrics` without
pulling in the server or the store):

- `metrics`: `Metrics` (every metric, on one explicit registry) and the hooks library code calls
  (`observe_request`, `observe_run`, `observe_push`, `observe_tick`), no-ops until `install(metrics)`.
- `store_gauges`: `StoreGauges`, a collector reading outbox, quarantine, conflicts and leases at scrape time.
- `history`: at start, `prime` every series the jobs will report at 0 and `restore` each stream's last success
  and last run duration from the run history (the daemon does both in `connector.daemon.metered`).
- `health`: `Heartbeat` (the scheduler ticks it; `/healthz` reports its age) and `DatabaseReadiness`.
- `server`: `serve(...)` starts the one-port server and returns a handle with `.port` and `.stop()`.
- `logging`: `configure_logging` (key=value or JSON lines) and the secret filter.

What the daemon (`connector run`) does::

    from connector.observability import metrics as obs
    from connector.observability.health import DatabaseReadiness, Heartbeat
    from connector.observability.server import serve
    from connector.observability.store_gauges import StoreGauges

    m = obs.Metrics()
    m.registry.register(StoreGauges.for_engine(engine, connections=names, replica_id=replica))
    obs.install(m)                                   # hooks in http/sync now record into `m`
    beat = Heartbeat(max_age_seconds=3 * tick_interval)
    server = serve(m, beat, DatabaseReadiness(engine), host="0.0.0.0", port=9464)
    ...                                              # the scheduler calls beat.tick() on every loop
    server.stop(); obs.uninstall()

The push drain reports each row with ``on_row=lambda kind, outcome: obs.observe_push(target, kind, outcome)``.
"""
