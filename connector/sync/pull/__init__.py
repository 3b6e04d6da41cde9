"""Pull: what changed at a service, read page by page into the store (DESIGN.md "Pull").

`stream.run_stream` runs one stream from its cursor and commits each page with its checkpoint; `page`
hashes, maps and quarantines a page's records and hands each kind to the reconcile stage
(`connector.sync.reconcile`); `refetch` reads quarantined or missing records again by id; `gap` audits a
listing the store fell short of; `dangling` links invoices stored before their client. The pull never
imports the push (`tests/unit/test_layering.py`): what both need is in `connector.sync.ledger`.
"""
