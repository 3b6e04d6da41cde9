"""The connector: a two-way sync daemon between a canonical invoicing database and invoicing services."""

__version__ = "0.1.0"
