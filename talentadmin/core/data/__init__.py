"""Tables shipped with the code (generated; see each module)."""
