"""Reconcile: the stage between the pull and the store (DESIGN.md "Reconcile").

One reconciler per entity kind (`client`, `invoice`, `payment`) holds that kind's rules; `stage.reconcile`
runs them over an immutable `change.Incoming` per record and writes the outcome. The rules themselves
(`merge`, `copies`, `conflicts`, `marked`, the write ledger in `connector.sync.ledger`) are pure functions
with table-driven unit tests (`tests/unit/reconcile/`). This package imports neither `connector.http` nor
any provider, nor the pull or the push: both of those depend on it.
"""
