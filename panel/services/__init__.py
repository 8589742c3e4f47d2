"""Business logic. Services take plain arguments, own the transaction and write the audit log."""
