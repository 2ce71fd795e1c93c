"""What the rules produce: which rule fired, how bad it is, about what, and the proof.

A `Hit` is a value: the rules return the complete list of hits for their input, and the
collector keeps one open alert per (rule, subject), so a later evaluation of a longer history
replaces or extends the earlier one (more evidence, maybe more stores) rather than adding a
second alert.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass


class Scope(enum.Enum):
    """What a rule looks at, and so what its hits' subject names."""

    CODE = "code"  # one traceability code across the county: subject = the code's identity key
    PERSON = "person"  # one insured pseudonym and product: subject = person:{pseudonym}:{product}
    STORE_DAY = "store_day"  # one store on one (local) day: subject = store:{store}:{YYYY-MM-DD}
    STORE = "store"  # one store: subject = store:{store}
    SETTLEMENT = "settlement"  # one settlement (camera rules, issue 7): subject = settlement:{store}:{setl_id}
    STORE_HOUR = "store_hour"  # one store in one (local) hour: subject = store:{store}:{YYYY-MM-DDTHH}


@functools.total_ordering
class Severity(enum.Enum):
    """How urgently an auditor should look; ordered LOW < MEDIUM < HIGH < CRITICAL."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank


_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(Severity)}


class Rule(enum.Enum):
    """Every rule of DOMAIN §4 (numbers 1-11) and the camera rules of §5 (numbered 12-17 here)."""

    SOLD_TWICE_SAME_STORE = "sold_twice_same_store"  # 1 一药多卖
    SOLD_AT_TWO_STORES = "sold_at_two_stores"  # 2 回流药 candidate
    SPLIT_PACK_ABUSE = "split_pack_abuse"  # 3
    RECEIVED_AFTER_SALE = "received_after_sale"  # 4 回流
    RECEIVED_TWICE = "received_twice"  # 5 cloned or forged code
    NO_PROVENANCE = "no_provenance"  # 6
    SWIPE_RETURN_CYCLE = "swipe_return_cycle"  # 7 刷卡即退药
    PRODUCT_MISMATCH = "product_mismatch"  # 8 串换
    EXCESS_PURCHASES = "excess_purchases"  # 9 超量/超频次购药
    COLLECTION_GAP = "collection_gap"  # 10
    STORE_SILENT = "store_silent"  # 11 (no heartbeat)
    CLOCK_SKEW = "clock_skew"  # 11 (store clock disagrees)
    SWIPE_NOBODY = "swipe_nobody"  # 12 空刷 (§5)
    SWIPE_WITHOUT_SCAN = "swipe_without_scan"  # 13 (§5)
    UNSEEN_CODES = "unseen_codes"  # 14 (§5)
    CAMERA_BLIND = "camera_blind"  # 15 (§5)
    CLUSTERED_SWIPES = "clustered_swipes"  # 16 套刷/聚集性刷卡 (§5)
    SWIPES_VS_FOOTFALL = "swipes_vs_footfall"  # 17 (§5)

    @property
    def number(self) -> int:
        """The rule's number in DOMAIN §4 (12-17: the camera rules of §5, in their order there)."""
        return _RULE_INFO[self][0]

    @property
    def scope(self) -> Scope:
        return _RULE_INFO[self][1]

    @property
    def severity(self) -> Severity:
        """The rule's default severity (a hit may escalate it, see docs/rules.md)."""
        return _RULE_INFO[self][2]

    @property
    def title(self) -> str:
        """A short bilingual name for people."""
        return _RULE_INFO[self][3]


_RULE_INFO: dict[Rule, tuple[int, Scope, Severity, str]] = {
    Rule.SOLD_TWICE_SAME_STORE: (1, Scope.CODE, Severity.HIGH, "一药多卖 / sold twice at one store"),
    Rule.SOLD_AT_TWO_STORES: (2, Scope.CODE, Severity.CRITICAL, "回流药嫌疑 / sold at two stores"),
    Rule.SPLIT_PACK_ABUSE: (3, Scope.CODE, Severity.HIGH, "拆零滥用 / split-pack abuse"),
    Rule.RECEIVED_AFTER_SALE: (4, Scope.CODE, Severity.HIGH, "销售后入库（回流） / received after sale"),
    Rule.RECEIVED_TWICE: (5, Scope.CODE, Severity.HIGH, "重复入库 / received by two stores"),
    Rule.NO_PROVENANCE: (6, Scope.CODE, Severity.MEDIUM, "无入库来源 / sold without receipt"),
    Rule.SWIPE_RETURN_CYCLE: (7, Scope.CODE, Severity.HIGH, "刷卡即退药 / swipe-then-return cycle"),
    Rule.PRODUCT_MISMATCH: (8, Scope.CODE, Severity.MEDIUM, "串换 / code of another product"),
    Rule.EXCESS_PURCHASES: (9, Scope.PERSON, Severity.MEDIUM, "超量/超频次购药 / excess purchases"),
    Rule.COLLECTION_GAP: (10, Scope.STORE_DAY, Severity.MEDIUM, "采集率不足 / collection gap"),
    Rule.STORE_SILENT: (11, Scope.STORE, Severity.MEDIUM, "门店失联 / store silent"),
    Rule.CLOCK_SKEW: (11, Scope.STORE, Severity.LOW, "门店时钟偏差 / store clock skew"),
    Rule.SWIPE_NOBODY: (12, Scope.SETTLEMENT, Severity.HIGH, "空刷 / swipe with nobody at the counter"),
    Rule.SWIPE_WITHOUT_SCAN: (13, Scope.SETTLEMENT, Severity.MEDIUM, "刷卡未扫码 / swipe without scan"),
    Rule.UNSEEN_CODES: (14, Scope.SETTLEMENT, Severity.LOW, "追溯码未见实物 / codes the camera never saw"),
    Rule.CAMERA_BLIND: (15, Scope.SETTLEMENT, Severity.MEDIUM, "刷卡时摄像头失效 / camera blind at swipe"),
    Rule.CLUSTERED_SWIPES: (16, Scope.SETTLEMENT, Severity.HIGH, "套刷/聚集性刷卡 / clustered swipes"),
    Rule.SWIPES_VS_FOOTFALL: (17, Scope.STORE_HOUR, Severity.MEDIUM, "刷卡数远超客流 / swipes far above footfall"),
}


class CodeState(enum.Enum):
    """Where a code is in its county-wide lifecycle (DOMAIN §4).

    RECEIVED → IN_STOCK → SOLD (whole box) | OPENED (first split-pack sale) → EXHAUSTED;
    SOLD → RETURNED → IN_STOCK; IN_STOCK → PURCHASE_RETURNED | DESTROYED.
    A receipt makes a code RECEIVED; a stocktake (found on the shelf) makes it IN_STOCK.
    UNKNOWN: no event of the code moved it (only refused scans, or no events).
    """

    UNKNOWN = "unknown"
    RECEIVED = "received"
    IN_STOCK = "in_stock"
    SOLD = "sold"
    OPENED = "opened"
    EXHAUSTED = "exhausted"
    RETURNED = "returned"
    PURCHASE_RETURNED = "purchase_returned"
    DESTROYED = "destroyed"


@dataclass(frozen=True)
class Hit:
    """One rule firing on one subject, with the proof.

    stores: every store involved, sorted. code: the identity key for code rules, else None.
    evidence: the ids of the events that prove the hit, sorted. detail: a short English
    sentence for people (the rule's `title` gives the bilingual name).
    """

    rule: Rule
    severity: Severity
    subject: str
    stores: tuple[str, ...]
    code: str | None
    evidence: tuple[str, ...]
    detail: str


def person_subject(person: str, product: str) -> str:
    return f"person:{person}:{product}"


def store_day_subject(store: str, day_iso: str) -> str:
    return f"store:{store}:{day_iso}"


def store_subject(store: str) -> str:
    return f"store:{store}"


def settlement_subject(store: str, setl_id: str) -> str:
    return f"settlement:{store}:{setl_id}"


def store_hour_subject(store: str, hour_iso: str) -> str:
    """`hour_iso` is the local hour as YYYY-MM-DDTHH."""
    return f"store:{store}:{hour_iso}"
