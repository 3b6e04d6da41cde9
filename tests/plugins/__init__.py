"""Providers as plug-ins: a fifth one, living under tests/ledgerly, joins through its entry point alone."""
