"""The dashboard's message catalogue: every visible string in zh-CN (default) and English.

Templates call `t("key")` (or `t("key", n=3)` for `{n}` placeholders); Python code calls
`text(lang, "key")`. A missing key raises at once (tests render every page in both languages).
"""

from __future__ import annotations

import enum

from collector.rules.model import Rule


class Lang(enum.Enum):
    ZH = "zh"
    EN = "en"


DEFAULT = Lang.ZH

MESSAGES: dict[str, tuple[str, str]] = {
    # frame
    "app_title": ("药品追溯码监管平台", "DrugTrace county dashboard"),
    "nav_overview": ("总览", "Overview"),
    "nav_stores": ("门店", "Stores"),
    "nav_alerts": ("预警", "Alerts"),
    "nav_codes": ("追溯码查询", "Code lookup"),
    "nav_admin": ("用户与审计", "Users & audit"),
    "sign_out": ("退出", "Sign out"),
    "switch_lang": ("English", "中文"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "county": ("区县", "County"),
    # sign-in
    "sign_in": ("登录", "Sign in"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码错误。", "Wrong user name or password."),
    "session_expired": ("会话已超时，请重新登录。", "Your session timed out; please sign in again."),
    "csrf_refused": ("表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。",
                     "The form expired or did not come from this site (CSRF check failed); reload and retry."),
    "forbidden": ("您的角色无权执行此操作。", "Your role may not do this."),
    "not_found": ("未找到。", "Not found."),
    # overview
    "stores_online": ("在线门店", "Stores online"),
    "health_online": ("在线", "online"),
    "health_silent": ("失联", "silent"),
    "health_offline": ("离线", "offline"),
    "health_unknown": ("未知", "unknown"),
    "today": ("今日", "Today"),
    "receipts": ("入库", "Receipts"),
    "sales": ("销售", "Sales"),
    "settlements": ("结算", "Settlements"),
    "insured_settlements": ("医保结算", "Insurance settlements"),
    "collection_rate": ("追溯码采集率", "Collection rate"),
    "boxes_coded": ("已采集/应采集（盒）", "Boxes coded / required"),
    "open_alerts": ("未处理预警", "Open alerts"),
    "by_severity": ("按严重程度", "By severity"),
    "by_rule": ("按规则", "By rule"),
    "trend_14": ("近 14 天", "Last 14 days"),
    "trend_30": ("近 30 天", "Last 30 days"),
    "no_data": ("暂无数据", "No data"),
    "stores_total": ("门店总数", "Stores"),
    # stores
    "search": ("搜索", "Search"),
    "store": ("门店", "Store"),
    "health": ("状态", "Health"),
    "all": ("全部", "All"),
    "last_heartbeat": ("最近心跳", "Last heartbeat"),
    "outbox_depth": ("待上传", "Outbox"),
    "outbox_lag": ("上传延迟", "Upload lag"),
    "last_upload": ("最近上传", "Last upload"),
    "agent_version": ("客户端版本", "Agent version"),
    "clock_skew": ("时钟偏差", "Clock skew"),
    "missing_events": ("缺失事件", "Missing events"),
    "resend_asked": ("已请求补传次数", "asked again"),
    "none_missing": ("序号连续", "none: sequence complete"),
    "devices": ("设备状态", "Devices"),
    "device": ("设备", "Device"),
    "detail": ("说明", "Detail"),
    "gaps": ("中断次数", "Gaps"),
    "timeline": ("活动时间线", "Activity timeline"),
    "its_alerts": ("本店预警", "This store's alerts"),
    "older": ("更早 →", "Older →"),
    "next_page": ("下一页 →", "Next page →"),
    "first_page": ("← 第一页", "← First page"),
    "unknown_store": ("没有该门店的任何数据。", "Nothing is known about this store."),
    "status_retained": ("在线状态（遗嘱消息）", "Broker status (last will)"),
    "seconds": ("秒", "s"),
    # events
    "time": ("时间（门店时钟）", "Time (store clock)"),
    "when": ("时间", "Time"),
    "received": ("接收时间", "Received"),
    "type": ("类型", "Type"),
    "doc": ("单据", "Document"),
    "seq": ("序号", "Seq"),
    "code": ("追溯码", "Code"),
    "product": ("药品", "Product"),
    "event_id": ("事件编号", "Event id"),
    "ev_receipt": ("采购入库", "receipt"),
    "ev_purchase_return": ("采购退货", "purchase return"),
    "ev_stock_change": ("库存变更", "stock change"),
    "ev_stocktake": ("盘点", "stocktake"),
    "ev_sale": ("销售", "sale"),
    "ev_settlement": ("结算", "settlement"),
    "ev_sale_return": ("销售退货", "sale return"),
    "ev_override": ("无码放行", "override"),
    "ev_scan_refused": ("扫码拒收", "scan refused"),
    "ev_heartbeat": ("心跳", "heartbeat"),
    "ev_camera_evidence": ("摄像头取证", "camera evidence"),
    # alerts
    "rule": ("规则", "Rule"),
    "severity": ("严重程度", "Severity"),
    "sev_critical": ("严重", "critical"),
    "sev_high": ("高", "high"),
    "sev_medium": ("中", "medium"),
    "sev_low": ("低", "low"),
    "status": ("处理状态", "Status"),
    "st_new": ("新预警", "new"),
    "st_acknowledged": ("处理中", "acknowledged"),
    "st_confirmed": ("已确认", "confirmed"),
    "st_dismissed": ("已排除", "dismissed"),
    "st_withdrawn": ("系统撤回", "withdrawn"),
    "st_open": ("未关闭", "open"),
    "st_closed": ("已关闭", "closed"),
    "date_from": ("起始日期", "From"),
    "date_to": ("截止日期", "To"),
    "sort": ("排序", "Sort"),
    "sort_severity": ("严重程度优先", "Most severe first"),
    "sort_newest": ("最新优先", "Newest first"),
    "sort_oldest": ("最早优先", "Oldest first"),
    "sort_last_seen": ("最近更新优先", "Recently updated first"),
    "filter": ("筛选", "Filter"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "alert": ("预警", "Alert"),
    "subject": ("对象", "Subject"),
    "stores": ("门店", "Stores"),
    "first_seen": ("首次发现", "First seen"),
    "last_seen": ("最近更新", "Last seen"),
    "evidence": ("证据事件", "Evidence events"),
    "code_history": ("该追溯码的全部记录", "The code's history"),
    "camera_still": ("摄像头截图", "Camera still"),
    "still_missing": ("门店尚未上传截图。", "The store has not uploaded the still yet."),
    "trail": ("处理记录", "Audit trail"),
    "actor": ("操作人", "By"),
    "action": ("操作", "Action"),
    "note": ("备注", "Note"),
    "closure": ("结论代码", "Closure code"),
    "acknowledge": ("受理", "Acknowledge"),
    "close": ("办结", "Close"),
    "reopen": ("重新打开", "Reopen"),
    "act_raise": ("系统生成", "raised"),
    "act_acknowledge": ("受理", "acknowledged"),
    "act_close": ("办结", "closed"),
    "act_reopen": ("重新打开", "reopened"),
    "act_escalate": ("升级", "escalated"),
    "act_withdraw": ("撤回", "withdrawn"),
    "bulk_acknowledge": ("批量受理所选", "Acknowledge selected"),
    "bulk_close": ("批量办结所选", "Close selected"),
    "select": ("选择", "Select"),
    "done_n": ("已处理 {n} 条。", "{n} done."),
    "refused_n": ("{n} 条未处理：", "{n} refused:"),
    "no_alerts": ("没有符合条件的预警。", "No alerts match."),
    "viewer_readonly": ("查看者角色只能浏览，不能处理预警。", "Viewers may read alerts but not act on them."),
    # codes
    "lookup": ("查询", "Look up"),
    "code_prompt": ("输入或扫描追溯码", "Type or scan a traceability code"),
    "verdict": ("查询结论", "Verdict"),
    "verdict_not_sold": ("未销售", "not sold"),
    "verdict_sold_once": ("已销售一次", "sold once"),
    "verdict_sold_many": ("已销售两次及以上", "sold two or more times"),
    "sale_count": ("销售次数", "Sales"),
    "return_count": ("退货次数", "Returns"),
    "lifecycle_state": ("当前状态", "Current state"),
    "product_key": ("药品标识码", "Product key"),
    "code_kind": ("码制", "Code kind"),
    "batch": ("批号", "Batch"),
    "expiry": ("有效期", "Expiry"),
    "products_billed": ("单据中的药品编码", "Product ids on documents"),
    "no_code_events": ("全县没有该追溯码的任何记录。", "No store in the county has recorded this code."),
    "code_alerts": ("相关预警", "Alerts on this code"),
    # admin
    "users": ("用户", "Users"),
    "role": ("角色", "Role"),
    "role_viewer": ("查看者", "viewer"),
    "role_auditor": ("稽核员", "auditor"),
    "role_admin": ("管理员", "admin"),
    "disabled": ("已停用", "disabled"),
    "created": ("创建时间", "Created"),
    "add_user": ("新增用户", "Add user"),
    "audit_log": ("审计日志", "Audit log"),
    "target": ("对象", "Target"),
    "address": ("来源地址", "Address"),
    "user_added": ("用户已创建。", "User added."),
}


def text(lang: Lang, key: str, **values: object) -> str:
    """The message `key` in `lang`, with `{name}` placeholders filled."""
    zh, en = MESSAGES[key]
    chosen = zh if lang is Lang.ZH else en
    return chosen.format(**values) if values else chosen


def rule_title(lang: Lang, rule: str) -> str:
    """A rule's short name in `lang` (from Rule.title, `中文 / English`); unknown rules show as stored."""
    try:
        zh, _, en = Rule(rule).title.partition(" / ")
    except ValueError:
        return rule
    return zh if lang is Lang.ZH else en
