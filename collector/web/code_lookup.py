"""追溯码查询: a code's county-wide history, its verdict in the national lookup's terms, and its product.

Pure over the events of one code (the query is one indexed lookup, see alert_queries.code_history).

>>> import datetime as dt
>>> from drugtrace.events import Code, CodeKind, Sale
>>> box = Code(key="81234567890123456789", kind=CodeKind.NMPA, product_key="8123456")
>>> t = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
>>> sale = Sale(id="s1", store="S1", doc="D1", seq=2, at=t, line=1, product="P", code=box, price_fen=100)
>>> look_up(box.key, [sale, sale]).verdict
<Verdict.SOLD_ONCE: 'sold_once'>
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from collector.rules import CodeState, code_lifecycle
from collector.rules.ledger import CodeEvent
from drugtrace.events import AnyEvent, Sale, SaleReturn


class Verdict(enum.Enum):
    """The national lookup's three answers (未销售 / 已销售一次 / 已销售两次及以上)."""

    NOT_SOLD = "not_sold"
    SOLD_ONCE = "sold_once"
    SOLD_MANY = "sold_many"


@dataclass(frozen=True)
class CodeFacts:
    code: str
    verdict: Verdict
    sales: int  # distinct sale events of the code (split-pack sales each count, as in the national lookup)
    returns: int
    state: CodeState
    kind: str | None
    product_key: str | None
    batch: str | None
    expiry: str | None
    products: tuple[str, ...]  # the product ids documents billed it as
    stores: tuple[str, ...]


def look_up(code: str, events: Sequence[AnyEvent]) -> CodeFacts:
    """The facts about `code` from its events (repeats of one (store, id) count once)."""
    unique = list({(e.store, e.id): e for e in events}.values())
    sales = sum(1 for e in unique if isinstance(e, Sale))
    returns = sum(1 for e in unique if isinstance(e, SaleReturn))
    verdict = Verdict.NOT_SOLD if sales == 0 else Verdict.SOLD_ONCE if sales == 1 else Verdict.SOLD_MANY
    concerned: list[CodeEvent] = [e for e in unique if isinstance(e, CodeEvent.__args__)]  # type: ignore[attr-defined]
    described = [found for e in unique if (found := getattr(e, "code", None)) is not None and found.key == code]
    first = described[0] if described else None
    products = sorted({product for e in unique if (product := getattr(e, "product", None))})
    return CodeFacts(
        code=code, verdict=verdict, sales=sales, returns=returns, state=code_lifecycle(concerned),
        kind=first.kind.value if first else None,
        product_key=next((c.product_key for c in described if c.product_key), None),
        batch=next((c.batch for c in described if c.batch), None),
        expiry=next((c.expiry.isoformat() for c in described if c.expiry), None),
        products=tuple(products), stores=tuple(sorted({e.store for e in unique})),
    )
