"""JSON shapes of documents, scan outcomes and the counter view (what the POS and the page read)."""

from __future__ import annotations

from typing import Any

from agent.counter import Document, Line, Message, MissingLine, ScanOutcome
from agent.counter.model import KIND_NAMES
from agent.service import CounterView, RecordedOutcome


def message_json(message: Message) -> dict[str, Any]:
    return {"code": message.code.value, "message": message.message_zh, "message_en": message.message_en}


def outcome_json(outcome: ScanOutcome) -> dict[str, Any]:
    return {"verdict": outcome.verdict.value, "accepted": outcome.accepted, "doc_id": outcome.doc_id,
            "line": outcome.line, "key": outcome.key, "raw": outcome.raw.strip("\r\n")[:128],
            **message_json(outcome.message)}


def missing_json(missing: MissingLine) -> dict[str, Any]:
    return {"line": missing.line, "product": missing.product_id, "name": missing.name,
            "boxes_required": missing.boxes_required, "codes": missing.codes, "missing": missing.missing}


def line_json(line: Line) -> dict[str, Any]:
    return {
        "line": line.number, "product": line.product_id, "name": line.name, "quantity": line.quantity,
        "price_fen": line.price_fen, "trdn_flag": line.trdn_flag, "rx": line.rx, "needs_codes": line.needs_codes,
        "units_per_box": line.units_per_box, "boxes_required": line.boxes_required, "missing": line.missing,
        "codes": [{"key": c.key, "kind": c.kind.value, "expiry": c.expiry.isoformat() if c.expiry else None}
                  for c in line.codes],
        "override": None if line.override is None else {
            "reason": line.override.reason, "operator": line.override.operator, "missing": line.override.missing},
    }


def document_json(document: Document) -> dict[str, Any]:
    zh, en = KIND_NAMES[document.kind]
    settlement = document.settlement
    return {
        "doc_id": document.doc_id, "kind": document.kind.value, "kind_zh": zh, "kind_en": en,
        "status": document.status.value, "opened_at": document.opened_at.isoformat(),
        "supplier": document.supplier, "invoice": document.invoice, "original_doc": document.original_doc,
        "lines": [line_json(line) for line in document.lines],
        "settlement": None if settlement is None else {
            "setl_id": settlement.setl_id, "payment": settlement.payment.value, "total_fen": settlement.total_fen,
            "fund_fen": settlement.fund_fen, "person": settlement.person},
    }


def recorded_json(recorded: RecordedOutcome) -> dict[str, Any]:
    return {"number": recorded.number, "source": recorded.source, "at": recorded.at.isoformat(),
            **outcome_json(recorded.outcome)}


def view_json(view: CounterView) -> dict[str, Any]:
    return {
        "active": None if view.active is None else document_json(view.active),
        "missing": [missing_json(m) for m in view.missing],
        "last": None if view.last is None else recorded_json(view.last),
        "recent": [recorded_json(r) for r in view.recent],
        "open_documents": [{"doc_id": doc_id, "kind": kind.value, "kind_zh": KIND_NAMES[kind][0],
                            "kind_en": KIND_NAMES[kind][1]} for doc_id, kind in view.open_documents],
        "outbox": {"depth": view.outbox.depth, "capacity": view.outbox.capacity,
                   "nearly_full": view.outbox.nearly_full, "full": view.outbox.full},
        "outbox_warning": None if view.outbox_warning is None else message_json(view.outbox_warning),
        "resume_problems": list(view.resume_problems),
    }
