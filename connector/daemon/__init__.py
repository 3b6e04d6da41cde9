"""The daemon behind `connector run`: scheduled jobs per connection, leases for replicas, graceful stop.

- `jobs`: what runs (a pull per stream, a push, a sweep per connection) and on which trigger.
- `leasing`: `LeaseKeeper`, which claims and renews this replica's connection leases.
- `runner`: `Daemon`, which wires the scheduler, the leases, the heartbeat and the metrics server together.
"""

from connector.daemon.runner import Daemon

__all__ = ["Daemon"]
