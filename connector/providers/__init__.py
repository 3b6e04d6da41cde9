"""Service adapters: wire format only. One package per provider, discovered by `registry`."""
