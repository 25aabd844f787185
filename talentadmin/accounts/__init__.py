"""Enterprise accounts (by mobile number) and staff accounts (with roles)."""
