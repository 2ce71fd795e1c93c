"""Notifications to auditors: a durable outbox in the ledger and per-endpoint senders (docs/notifications.md)."""
