"""Business permission (业务权限): the unit's application to declare, and its revisions."""
