"""The sync engine: `pull/`, `reconcile/` and `push/`, and the neutral modules they share (the write ledger,
payload text and hashes, validation, reference lists). Knows no wire format."""
