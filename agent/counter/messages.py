"""Every message the counter shows or the POS API returns: a stable machine code, Chinese and English.

>>> render(MessageCode.MISSING_CODES, lines="1(2)").message_zh
'还缺追溯码，不能医保结算：第1(2)行（括号内为缺少的盒数）。'
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class MessageCode(enum.Enum):
    """Stable machine codes (the POS keys on these; never rename a value)."""

    # scan outcomes
    ACCEPTED = "accepted"
    EXPIRED_AT_RECEIPT = "expired_at_receipt"
    RECEIVED_AFTER_SALE_HERE = "received_after_sale_here"
    DUPLICATE_IN_DOCUMENT = "duplicate_in_document"
    COMMODITY_BARCODE = "commodity_barcode"
    NOT_A_TRACE_CODE = "not_a_trace_code"
    PRODUCT_MISMATCH = "product_mismatch"
    ALREADY_SOLD_HERE = "already_sold_here"
    OPENED_BOX_WHOLE_SALE = "opened_box_whole_sale"
    EXPIRED = "expired"
    NOT_SOLD_HERE = "not_sold_here"
    NOT_IN_STOCK = "not_in_stock"
    ALREADY_IN_STOCK = "already_in_stock"
    LINE_FULL = "line_full"
    NO_LINES = "no_lines"
    NO_OPEN_DOCUMENT = "no_open_document"
    # operations
    SETTLE_ALLOWED = "settle_allowed"
    MISSING_CODES = "missing_codes"
    SETTLED = "settled"
    OVERRIDDEN = "overridden"
    NOTHING_TO_OVERRIDE = "nothing_to_override"
    OVERRIDE_NEEDS_REASON = "override_needs_reason"
    UNKNOWN_DOCUMENT = "unknown_document"
    DOCUMENT_NOT_OPEN = "document_not_open"
    WRONG_DOCUMENT_KIND = "wrong_document_kind"
    UNKNOWN_PRODUCT = "unknown_product"
    UNKNOWN_LINE = "unknown_line"
    BAD_QUANTITY = "bad_quantity"
    SPLIT_PACK_NOT_ALLOWED = "split_pack_not_allowed"
    BAD_AMOUNTS = "bad_amounts"
    PERSON_REQUIRED = "person_required"
    EMPTY_DOCUMENT = "empty_document"
    MUST_SETTLE = "must_settle"
    OUTBOX_FULL = "outbox_full"
    OUTBOX_NEARLY_FULL = "outbox_nearly_full"
    # HTTP edge
    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    INTERNAL = "internal"


_TEXTS: dict[MessageCode, tuple[str, str]] = {
    MessageCode.ACCEPTED: ("已接受：第{line}行 {product}。", "Accepted on line {line}: {product}."),
    MessageCode.EXPIRED_AT_RECEIPT: ("已接受，但该盒已过期（有效期{expiry}），请核对。",
                                     "Accepted, but this box expired on {expiry}: please check it."),
    MessageCode.RECEIVED_AFTER_SALE_HERE: ("已入库，但该追溯码曾在本店售出，将上报医保局核查（回流药嫌疑）。",
                                           "Received, but this code was sold at this store before: it is reported "
                                           "to the bureau for review (possible returned-to-market drug)."),
    MessageCode.DUPLICATE_IN_DOCUMENT: ("这个追溯码已在本单第{line}行扫过，无需重复扫码。",
                                        "This code is already on line {line} of this document; no need to scan again."),
    MessageCode.COMMODITY_BARCODE: ("这是商品条码，不是追溯码。请扫描药盒上的追溯码。",
                                    "This is a commodity barcode, not a traceability code. Scan the box's "
                                    "traceability code."),
    MessageCode.NOT_A_TRACE_CODE: ("{zh}", "{en}"),
    MessageCode.PRODUCT_MISMATCH: ("串换：此追溯码属于药品标识{product_key}，与所开药品{product}不符，拒绝。",
                                   "Product mismatch: this code's product key {product_key} does not match the "
                                   "billed product {product}; refused."),
    MessageCode.ALREADY_SOLD_HERE: ("该追溯码已在本店售出，不能再次{action}。",
                                    "This code was already sold at this store; it cannot be {action_en} again."),
    MessageCode.OPENED_BOX_WHOLE_SALE: ("该盒已拆零销售，不能整盒再卖。",
                                        "This box was opened for split-pack sales; it cannot be sold as a whole box."),
    MessageCode.EXPIRED: ("该盒已过期（有效期{expiry}），禁止销售。", "This box expired on {expiry}: sale blocked."),
    MessageCode.NOT_SOLD_HERE: ("该追溯码没有在本店售出的记录，不能退货。",
                                "This code has no sale at this store; it cannot be returned."),
    MessageCode.NOT_IN_STOCK: ("该追溯码不在本店库存（已退货或已销毁）。",
                               "This code is not in this store's stock (returned to supplier or destroyed)."),
    MessageCode.ALREADY_IN_STOCK: ("该追溯码已在本店库存中，不能重复入库。",
                                   "This code is already in this store's stock; it cannot be received again."),
    MessageCode.LINE_FULL: ("第{line}行的追溯码已扫够（{boxes}盒），多余的码不接受。",
                            "Line {line} already has a code for each of its {boxes} boxes; extra code refused."),
    MessageCode.NO_LINES: ("单据还没有药品行，请先开单再扫码。",
                           "The document has no lines yet: add the products before scanning."),
    MessageCode.NO_OPEN_DOCUMENT: ("没有打开的单据，扫码未记入任何单据。请先开单。",
                                   "No open document: the scan was not put on any document. Open one first."),
    MessageCode.SETTLE_ALLOWED: ("追溯码齐全，可以结算。", "All codes present: you may settle."),
    MessageCode.MISSING_CODES: ("还缺追溯码，不能医保结算：第{lines}行（括号内为缺少的盒数）。",
                                "Codes missing, insurance settlement refused: line {lines} (missing boxes in "
                                "brackets)."),
    MessageCode.SETTLED: ("已结算。", "Settled."),
    MessageCode.OVERRIDDEN: ("已登记例外放行：第{line}行缺{missing}个码，原因：{reason}（操作员{operator}），将上报。",
                             "Override recorded: line {line} misses {missing} codes, reason: {reason} "
                             "(operator {operator}); it will be reported."),
    MessageCode.NOTHING_TO_OVERRIDE: ("第{line}行不缺追溯码，无需例外放行。",
                                      "Line {line} is not missing codes; nothing to override."),
    MessageCode.OVERRIDE_NEEDS_REASON: ("例外放行必须填写原因和操作员工号。",
                                        "An override needs a reason and the operator's id."),
    MessageCode.UNKNOWN_DOCUMENT: ("找不到单据{doc}。", "No document {doc}."),
    MessageCode.DOCUMENT_NOT_OPEN: ("单据{doc}已{status}，不能再修改。", "Document {doc} is {status_en}; it cannot change."),
    MessageCode.WRONG_DOCUMENT_KIND: ("{kind}单据不能执行此操作。", "This operation is not possible on a {kind_en} document."),
    MessageCode.UNKNOWN_PRODUCT: ("药品目录中没有{product}。", "Product {product} is not in the catalogue."),
    MessageCode.UNKNOWN_LINE: ("单据没有第{line}行。", "The document has no line {line}."),
    MessageCode.BAD_QUANTITY: ("数量有误：{detail}", "Invalid quantity: {detail_en}"),
    MessageCode.SPLIT_PACK_NOT_ALLOWED: ("{product}每盒{units}个最小单位，拆零数量必须少于一盒。",
                                         "{product} has {units} minimum units per box: a split-pack line must sell "
                                         "less than one box."),
    MessageCode.BAD_AMOUNTS: ("金额有误：{detail}", "Invalid amounts: {detail_en}"),
    MessageCode.PERSON_REQUIRED: ("医保结算需要参保人编号（psn_no）。", "Insurance settlement needs the insured person's psn_no."),
    MessageCode.EMPTY_DOCUMENT: ("单据没有药品行，不能结算。", "The document has no lines; nothing to settle."),
    MessageCode.MUST_SETTLE: ("销售单须结算或作废，不能直接完成。", "A sale is finished by settling or cancelling it."),
    MessageCode.OUTBOX_FULL: ("本地缓存已满，暂停接收扫码，请检查网络连接。",
                              "The local outbox is full: scans are refused until it drains. Check the network."),
    MessageCode.OUTBOX_NEARLY_FULL: ("本地缓存将满（{depth}/{capacity}），请检查网络连接。",
                                     "The local outbox is nearly full ({depth}/{capacity}). Check the network."),
    MessageCode.BAD_REQUEST: ("请求格式错误：{detail}", "Malformed request: {detail}"),
    MessageCode.UNAUTHORIZED: ("缺少或错误的访问令牌。", "Missing or wrong bearer token."),
    MessageCode.NOT_FOUND: ("没有这个接口。", "No such endpoint."),
    MessageCode.METHOD_NOT_ALLOWED: ("该接口不支持此方法。", "This endpoint does not allow this method."),
    MessageCode.INTERNAL: ("内部错误，已记录。", "Internal error; it has been logged."),
}


@dataclass(frozen=True)
class Message:
    """One message in both languages, with its machine code."""

    code: MessageCode
    message_zh: str
    message_en: str


def render(code: MessageCode, **params: object) -> Message:
    """The message for `code` with `params` filled in (a parameter missing from `params` shows as '?')."""
    zh, en = _TEXTS[code]
    values = _Defaulting(params)
    return Message(code, zh.format_map(values), en.format_map(values))


class _Defaulting(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "?"
