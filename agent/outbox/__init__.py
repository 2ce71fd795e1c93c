"""The agent's durable outbox: a SQLite file that is the source of truth until the broker's PUBACK."""

from agent.outbox.sqlite import InboxCommand, OutboxStats, PendingEvent, SqliteOutbox

__all__ = ["InboxCommand", "OutboxStats", "PendingEvent", "SqliteOutbox"]
