"""The daemon behind `connector run`: scheduled jobs per connection, shared among replicas, graceful stop.

- `jobs`: what runs (a pull per stream, a push, a sweep per connection) and on which trigger; `JobRunner` runs
  one only where the connection's lease is held, and hands a connection off between its jobs.
- `leasing`: `LeaseKeeper`, which claims, renews and releases this process's connection leases.
- `shares`: which connections a replica should hold (its quota, by rendezvous hashing): pure functions.
- `membership`: `Membership`, this replica's row in the replica table and its share of the leases.
- `pool`: the fixed-size job pool that measures each job's queue delay.
- `runner`: `Daemon`, which wires the scheduler, the membership, the heartbeat and the metrics server together.
"""

from connector.daemon.runner import Daemon

__all__ = ["Daemon"]
