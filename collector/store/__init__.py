"""The collector's storage: a small interface (`base`) and its SQLite implementation."""

from collector.store.base import (
    AlertRecord, AlertState, LedgerStore, NewEvent, QuarantineRecord, StatusRecord, StoredEvent, StoreError,
)
from collector.store.sqlite import SQLiteLedger

__all__ = [
    "AlertRecord", "AlertState", "LedgerStore", "NewEvent", "QuarantineRecord", "SQLiteLedger", "StatusRecord",
    "StoredEvent", "StoreError",
]
