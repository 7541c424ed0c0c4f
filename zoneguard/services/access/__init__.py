"""Access: API keys, people and their sessions, one principal for both, the audit log."""
