"""Classify a raw scan into a traceability code, a commodity barcode or unclassified text.

Pure: no I/O, no clock. GS1 parsing is delegated to biip; this module only decides what
a scan *is* (DOMAIN §1) and says, in Chinese and English, why a scan is refused.

>>> classify("81234567890123456789").identity_key
'81234567890123456789'
>>> classify("6901234567892").problem.code
<Problem.COMMODITY_BARCODE: 'commodity_barcode'>
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

import biip

GS = "\x1d"


class CodeKind(enum.Enum):
    """What a scan is."""

    NMPA = "nmpa"  # 码上放心 / NMPA 20-digit drug traceability code
    GS1 = "gs1"  # GS1 DataMatrix / GS1-128 element strings with (01) GTIN
    COMMODITY = "commodity"  # plain GTIN/EAN product barcode, no serial
    UNCLASSIFIED = "unclassified"


class Problem(enum.Enum):
    """Why a scan cannot serve as a box's traceability code."""

    EMPTY = "empty"
    NOT_TEXT = "not_text"
    COMMODITY_BARCODE = "commodity_barcode"
    NMPA_PREFIX = "nmpa_prefix"
    GS1_INVALID = "gs1_invalid"
    GS1_CHECK_DIGIT = "gs1_check_digit"
    GS1_NO_SERIAL = "gs1_no_serial"
    GS1_MISSING_SEPARATOR = "gs1_missing_separator"
    UNKNOWN_FORMAT = "unknown_format"


@dataclass(frozen=True)
class Refusal:
    """A reason a scan is not accepted, said in both languages."""

    code: Problem
    message_en: str
    message_zh: str


@dataclass(frozen=True)
class ScanOptions:
    """How a scanner delivers its text (from the scanner profile, never guessed).

    strip: characters removed from both ends (terminators such as CR/LF).
    fnc1: characters the scanner sends in place of FNC1/GS; each becomes GS (0x1D).
    prefix / suffix: fixed text the scanner is programmed to add, removed when present.
    """

    strip: str = "\r\n"
    fnc1: tuple[str, ...] = (GS,)
    prefix: str = ""
    suffix: str = ""


DEFAULT_OPTIONS = ScanOptions()


@dataclass(frozen=True)
class Classification:
    """What a raw scan is. `identity_key` is set only for a usable traceability code."""

    raw: str
    kind: CodeKind
    identity_key: str | None = None
    product_key: str | None = None
    gtin: str | None = None
    serial: str | None = None
    batch: str | None = None
    expiry: dt.date | None = None
    problem: Refusal | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def is_trace_code(self) -> bool:
        """True when the scan identifies one pack and may go on a document."""
        return self.identity_key is not None and self.problem is None

    def expired(self, today: dt.date) -> bool:
        """True when the GS1 expiry (17) lies before `today`."""
        return self.expiry is not None and self.expiry < today


def _refuse(raw: str, kind: CodeKind, code: Problem, en: str, zh: str, **kw: object) -> Classification:
    return Classification(raw=raw, kind=kind, problem=Refusal(code, en, zh), **kw)  # type: ignore[arg-type]


def normalise(raw: str, options: ScanOptions = DEFAULT_OPTIONS) -> str:
    """Apply a scanner profile's framing rules to the raw text."""
    text = raw.strip(options.strip) if options.strip else raw
    if options.prefix and text.startswith(options.prefix):
        text = text[len(options.prefix):]
    if options.suffix and text.endswith(options.suffix):
        text = text[: -len(options.suffix)]
    for substitute in options.fnc1:
        if substitute != GS:
            text = text.replace(substitute, GS)
    return text


def classify_bytes(data: bytes, options: ScanOptions = DEFAULT_OPTIONS) -> Classification:
    """Classify bytes straight from a scanner; non-ASCII bytes are refused, not guessed."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        shown = data[:40].decode("ascii", "backslashreplace")
        return _refuse(
            shown, CodeKind.UNCLASSIFIED, Problem.NOT_TEXT,
            f"Expected ASCII text from the scanner, got byte 0x{data[exc.start]:02x} at position {exc.start}.",
            f"扫码枪应发送ASCII文本，第{exc.start}位收到字节0x{data[exc.start]:02x}。",
        )
    return classify(text, options)


def classify(raw: str, options: ScanOptions = DEFAULT_OPTIONS) -> Classification:
    """Classify one scan. Never raises: every refusal is a value."""
    text = normalise(raw, options)
    if not text:
        return _refuse(raw, CodeKind.UNCLASSIFIED, Problem.EMPTY,
                       "Expected a scanned code, got empty input.", "未收到条码内容。")
    bad = next((c for c in text if not (c == GS or " " <= c <= "~")), None)
    if bad is not None:
        return _refuse(
            raw, CodeKind.UNCLASSIFIED, Problem.NOT_TEXT,
            f"Expected printable ASCII, got character U+{ord(bad):04X} at position {text.index(bad)}.",
            f"条码含不可识别字符 U+{ord(bad):04X}（第{text.index(bad)}位），请检查扫码枪设置（大小写锁定、键盘布局）。",
        )
    if text.startswith("]") and len(text) >= 3 and text[:3] not in GS1_SYMBOLOGIES:
        text = text[3:]  # a non-GS1 AIM symbology identifier (e.g. ]C0 Code 128, ]E0 EAN-13)
    if len(text) == 20 and text.isdigit() and text[0] == "8":
        return Classification(raw=raw, kind=CodeKind.NMPA, identity_key=text, product_key=text[:7])
    gs1 = _classify_gs1(raw, text)
    if gs1 is not None:
        return gs1
    if text.isdigit() and len(text) == 20:
        return _refuse(
            raw, CodeKind.UNCLASSIFIED, Problem.NMPA_PREFIX,
            f"Expected a 20-digit drug code starting with 8, got one starting with {text[0]}.",
            f"药品追溯码应为以8开头的20位数字，收到以{text[0]}开头的20位数字。",
        )
    if text.isdigit() and len(text) in (8, 12, 13, 14):
        return _classify_plain_gtin(raw, text)
    return _refuse(
        raw, CodeKind.UNCLASSIFIED, Problem.UNKNOWN_FORMAT,
        f"Expected a 20-digit drug code or a GS1 code with (01) and (21), got {len(text)} characters {text[:24]!r}.",
        f"无法识别的条码（{len(text)}个字符），不是药品追溯码。",
    )


def _classify_plain_gtin(raw: str, text: str) -> Classification:
    result = biip.parse(text)
    if result.gtin is not None:
        return _refuse(
            raw, CodeKind.COMMODITY, Problem.COMMODITY_BARCODE,
            f"Expected a traceability code, got the commodity barcode {text} (GTIN without serial).",
            "这是商品条码，不是追溯码。请扫描药盒上的追溯码。",
            gtin=result.gtin.value.zfill(14),
        )
    return _refuse(
        raw, CodeKind.UNCLASSIFIED, Problem.UNKNOWN_FORMAT,
        f"Expected a valid barcode, got {text}: {result.gtin_error}",
        f"条码 {text} 校验位错误，无法识别。",
    )


GS1_SYMBOLOGIES = ("]d2", "]C1", "]Q3", "]e0", "]J1")


def _looks_gs1(text: str) -> bool:
    if text.startswith(GS1_SYMBOLOGIES + (GS,)):
        return True
    return text.startswith("01") and len(text) >= 16 and text[2:16].isdigit()


def _classify_gs1(raw: str, text: str) -> Classification | None:
    """Return a GS1 classification, or None when the text is not a GS1 message at all."""
    if not _looks_gs1(text):
        return None
    try:
        result = biip.parse(text.lstrip(GS) if text.startswith(GS) else text)
    except Exception as exc:  # biip raises only on misuse; never let a scan crash a caller
        return _refuse(raw, CodeKind.GS1, Problem.GS1_INVALID, f"Expected GS1 element strings, got an error: {exc}",
                       "GS1条码解析失败。")
    message = result.gs1_message
    if message is None:
        if len(text) == 20 and text.isdigit():
            return None  # 20 digits that are not GS1: judged as a malformed NMPA code
        return _refuse(
            raw, CodeKind.GS1, Problem.GS1_INVALID,
            f"Expected GS1 element strings, got {text[:40]!r}: {result.gs1_message_error}",
            "GS1条码格式错误，无法解析。",
        )
    fields = {es.ai.ai: es for es in message.element_strings}
    gtin_es = fields.get("01")
    if gtin_es is None:
        return _refuse(raw, CodeKind.GS1, Problem.GS1_INVALID,
                       "Expected GS1 element string (01) GTIN, got none.", "GS1条码缺少(01)商品编码。")
    if gtin_es.gtin is None:
        return _refuse(raw, CodeKind.GS1, Problem.GS1_CHECK_DIGIT, f"{gtin_es.gtin_error}",
                       f"GS1商品编码校验位错误：{gtin_es.value}。")
    gtin = gtin_es.value
    batch = fields["10"].value if "10" in fields else None
    expiry = fields["17"].date if "17" in fields else None
    serial_es = fields.get("21")
    if serial_es is None:
        separator_hint = next((es for es in message.element_strings
                               if es.ai.separator_required and "21" in es.value), None)
        if separator_hint is not None and GS not in text:
            return _refuse(
                raw, CodeKind.GS1, Problem.GS1_MISSING_SEPARATOR,
                f"Expected a GS separator after ({separator_hint.ai.ai}) {separator_hint.value!r}, got none: "
                "the scanner drops FNC1 (check its GS/FNC1 setting).",
                "GS1条码缺少分隔符(GS)，扫码枪的FNC1设置有误，请联系维护人员。",
                gtin=gtin, batch=batch, expiry=expiry,
            )
        return _refuse(
            raw, CodeKind.GS1, Problem.GS1_NO_SERIAL,
            f"Expected a GS1 code with serial (21), got GTIN {gtin} without serial.",
            "该GS1条码没有序列号(21)，不能作为单盒追溯码。",
            gtin=gtin, batch=batch, expiry=expiry,
        )
    serial = serial_es.value
    return Classification(
        raw=raw, kind=CodeKind.GS1, identity_key=f"(01){gtin}(21){serial}", product_key=gtin,
        gtin=gtin, serial=serial, batch=batch, expiry=expiry,
    )


def explain(result: Classification) -> list[tuple[str, str, str]]:
    """Rows (label_zh, label_en, value) describing a classification for people."""
    kind_names = {
        CodeKind.NMPA: ("药品追溯码（码上放心，20位）", "NMPA 20-digit drug traceability code"),
        CodeKind.GS1: ("GS1 追溯码（DataMatrix / GS1-128）", "GS1 traceability code (DataMatrix / GS1-128)"),
        CodeKind.COMMODITY: ("商品条码", "Commodity barcode (GTIN/EAN)"),
        CodeKind.UNCLASSIFIED: ("无法识别", "Unclassified"),
    }
    zh, en = kind_names[result.kind]
    rows = [("类型", "Kind", f"{zh} / {en}")]
    for label_zh, label_en, value in (
        ("追溯码标识", "Identity key", result.identity_key),
        ("药品标识", "Product key", result.product_key),
        ("商品编码(01)", "GTIN (01)", result.gtin),
        ("序列号(21)", "Serial (21)", result.serial),
        ("批号(10)", "Batch (10)", result.batch),
        ("有效期(17)", "Expiry (17)", result.expiry.isoformat() if result.expiry else None),
    ):
        if value is not None:
            rows.append((label_zh, label_en, value))
    if result.problem is not None:
        rows.append(("问题", "Problem", f"{result.problem.message_zh} / {result.problem.message_en}"))
    return rows
