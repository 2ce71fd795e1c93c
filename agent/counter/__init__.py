"""The pure counter workflow: documents, lines, codes scanned onto lines, settlement (DOMAIN §2–3).

No I/O and no clock: the service passes `now`, an id maker and the store's code states in a
`Context`, and commits the returned document state with the returned events.
"""

from agent.counter.emit import Context
from agent.counter.messages import Message, MessageCode, render
from agent.counter.model import (
    CounterError, DocKind, Document, DocStatus, Line, LineOverride, ScannedCode, SettlementInfo, decode_state,
    encode_state,
)
from agent.counter.scanning import ScanOutcome, Step, Verdict, scan, scan_without_document
from agent.counter.workflow import (
    MissingLine, add_line, cancel, finish, may_settle, missing_lines, open_document, override, settle,
)

__all__ = [
    "Context", "CounterError", "DocKind", "DocStatus", "Document", "Line", "LineOverride", "Message", "MessageCode",
    "MissingLine", "ScanOutcome", "ScannedCode", "SettlementInfo", "Step", "Verdict", "add_line", "cancel",
    "decode_state", "encode_state", "finish", "may_settle", "missing_lines", "open_document", "override", "render",
    "scan", "scan_without_document", "settle",
]
