"""Service adapters: wire format only. One package per provider, found through its entry point (`registry`)."""
