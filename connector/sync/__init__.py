"""The sync engine: pull (stream runner, checkpoints), reconcile, push. Knows no wire format."""
