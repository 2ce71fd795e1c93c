"""What the demo replays, as frozen values: stores, documents in phases, and what each must prove.

A `Scenario` is a plan, not a recording: every scan says what the counter must answer
(`Scan.expect`, an agent message code), and every planted fraud pattern says which alert the
collector must raise (`Planted`: rule and subject, computed from the same codes, pseudonyms and
day the replay uses). Look-alikes are legitimate stories that resemble a rule and must raise
nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from collector.rules.model import Rule


class Via(enum.Enum):
    """How a code reaches the agent."""

    SCANNER = "scanner"  # the store's serial scanner: bytes on a pseudo-terminal
    POS = "pos"  # the POS's own scanner: POST /api/v1/documents/{doc}/scans


class StockKind(enum.Enum):
    """Non-sale documents the demo uses (agent document kinds)."""

    RECEIPT = "receipt"
    STOCKTAKE = "stocktake"
    PURCHASE_RETURN = "purchase_return"


class Expect(enum.Enum):
    """What the counter must answer to a scan (the agent's message codes)."""

    ACCEPTED = "accepted"
    EXPIRED_AT_RECEIPT = "expired_at_receipt"  # accepted with a warning
    REPEAT = "duplicate_in_document"  # the same box twice on one document: a warning, no event
    MISMATCH = "product_mismatch"  # 串换: refused and reported
    COMMODITY = "commodity_barcode"  # refused and reported
    EXPIRED = "expired"  # refused at sale


@dataclass(frozen=True)
class Box:
    """One physical box: what its label's code sends, its identity key and product."""

    raw: str
    key: str
    product: str


@dataclass(frozen=True)
class Scan:
    raw: str
    expect: Expect = Expect.ACCEPTED


@dataclass(frozen=True)
class Line:
    """A document line. quantity: boxes (trdn_flag 0) or units of one opened box (trdn_flag 1)."""

    product: str
    quantity: int
    price_fen: int = 0
    trdn_flag: int = 0
    override: str = ""  # settle although this line's boxes have no codes, for this reason


@dataclass(frozen=True)
class Stock:
    """A receipt, stocktake or purchase return document."""

    store: str
    kind: StockKind
    lines: tuple[Line, ...]
    scans: tuple[Scan, ...]
    supplier: str = ""
    invoice: str = ""
    via: Via = Via.SCANNER


@dataclass(frozen=True)
class Sale:
    """A sale document: lines, scans in order, then settlement (or cancel)."""

    store: str
    ref: str  # a scenario label that returns refer to
    lines: tuple[Line, ...]
    scans: tuple[Scan, ...]
    setl_id: str
    insurance: bool
    psn_no: str | None  # insured person's number, pseudonymised by the agent
    via: Via = Via.SCANNER
    cancel: bool = False  # voided before settlement: its boxes go back to stock

    @property
    def total_fen(self) -> int:
        return sum(line.price_fen * (1 if line.trdn_flag else line.quantity) for line in self.lines)

    @property
    def fund_fen(self) -> int:
        return self.total_fen * 7 // 10 if self.insurance else 0


@dataclass(frozen=True)
class Return:
    """A sale return of boxes sold by the sale `sale_ref` at the same store."""

    store: str
    sale_ref: str
    product: str
    boxes: tuple[Box, ...]
    via: Via = Via.SCANNER


@dataclass(frozen=True)
class Reinstall:
    """The store's agent is stopped and its data folder wiped (all uploaded first), then started again."""

    store: str


@dataclass(frozen=True)
class Silence:
    """The store's agent is stopped for good: no more heartbeats."""

    store: str


Step = Stock | Sale | Return | Reinstall | Silence


@dataclass(frozen=True)
class Phase:
    """Steps run store by store in order, stores in parallel; a phase ends before the next begins."""

    name: str
    steps: tuple[Step, ...]

    def stores(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(step.store for step in self.steps))

    def steps_of(self, store: str) -> tuple[Step, ...]:
        return tuple(step for step in self.steps if step.store == store)


@dataclass(frozen=True)
class Planted:
    """A fraud pattern put into the day: the alert (rule, subject) it must raise."""

    rule: Rule
    subject: str
    stores: tuple[str, ...]
    story: str

    @property
    def identity(self) -> tuple[str, str]:
        return (self.rule.value, self.subject)


@dataclass(frozen=True)
class LookAlike:
    """A legitimate story that resembles a rule: it must raise no alert."""

    resembles: Rule
    stores: tuple[str, ...]
    story: str


@dataclass(frozen=True)
class StoreInfo:
    store: str
    name: str


@dataclass(frozen=True)
class Scenario:
    seed: int
    county: str
    day: dt.date  # the stores' local day the replay happens on (rule 10's subjects)
    stores: tuple[StoreInfo, ...]
    phases: tuple[Phase, ...]
    planted: tuple[Planted, ...]
    look_alikes: tuple[LookAlike, ...]

    def steps(self) -> tuple[Step, ...]:
        return tuple(step for phase in self.phases for step in phase.steps)

    def scan_count(self) -> int:
        total = 0
        for step in self.steps():
            if isinstance(step, (Stock, Sale)):
                total += len(step.scans)
            elif isinstance(step, Return):
                total += len(step.boxes)
        return total
