"""Security: authentication, roles and region scopes, maker-checker, the audit log."""
