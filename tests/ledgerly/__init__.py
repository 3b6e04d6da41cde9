"""Ledgerly: a tiny fifth provider that lives entirely here, to prove a provider is a plug-in.

Nothing under ``connector/`` names it. It joins only when its entry point is installed (the test writes a
``.dist-info`` with ``[connector.providers] ledgerly = tests.ledgerly.provider:LedgerlyProvider`` into a
directory on the path); then the connector finds, by its package: the provider (`provider`), its mapping
transforms (`transforms`), its mapping file (``ledgerly.yaml``), its sandbox (`sandbox`) and its contract
test kit (`harness`). See docs/adding-a-provider.md.
"""
