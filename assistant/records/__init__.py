"""Records: the feedback store and the audit trail (SQLite)."""
