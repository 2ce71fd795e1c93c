// DrugTrace counter page: polls the counter state, sends keyboard-wedge scans, beeps on each outcome.
// All server text is inserted with textContent (never innerHTML): scans and names are untrusted.
"use strict";
(function () {
  const body = document.body;
  const token = body.dataset.pageToken;
  const lang = body.dataset.lang === "en" ? "en" : "zh";
  const pollMs = Number(body.dataset.pollMs) || 700;
  const T = {
    zh: {
      title: "药品追溯码 收银台", new_sale: "F2 新销售单", new_receipt: "F4 新入库单", check: "F9 能否结算",
      finish: "F8 完成", cancel: "作废", ready: "请扫码", scan_label: "扫码 / 输入追溯码后按回车",
      no_document: "没有打开的单据", col_line: "行", col_product: "药品", col_quantity: "数量",
      col_codes: "已扫码", col_missing: "还缺", col_scanned: "追溯码", product_id: "药品编码", quantity: "数量",
      split: "拆零（最小单位）", add_line: "F3 添加药品行", recent: "最近扫码", accepted: "✔ 已接受",
      warning: "⚠ 注意", refused: "✖ 拒绝", all_present: "追溯码齐全", missing_prefix: "还缺追溯码：",
      line_word: "第{n}行", boxes: "{n}盒", supplier: "供应商？", invoice: "发票/随货单号？",
      exempt: "免码", override: "例外放行", offline: "无法连接本机服务",
    },
    en: {
      title: "DrugTrace counter", new_sale: "F2 New sale", new_receipt: "F4 New receipt", check: "F9 May I settle?",
      finish: "F8 Finish", cancel: "Cancel", ready: "Scan a code", scan_label: "Scan, or type a code and press Enter",
      no_document: "No open document", col_line: "Line", col_product: "Product", col_quantity: "Qty",
      col_codes: "Scanned", col_missing: "Missing", col_scanned: "Codes", product_id: "Product id",
      quantity: "Quantity", split: "Split pack (minimum units)", add_line: "F3 Add line", recent: "Recent scans",
      accepted: "✔ Accepted", warning: "⚠ Check", refused: "✖ Refused", all_present: "All codes present",
      missing_prefix: "Codes missing: ", line_word: "line {n}", boxes: "{n} box(es)", supplier: "Supplier?",
      invoice: "Invoice / delivery number?", exempt: "exempt", override: "override", offline: "Agent not reachable",
    },
  }[lang];
  const $ = (id) => document.getElementById(id);
  const fill = (text, n) => text.replace("{n}", String(n));
  let seen = null;
  let state = null;

  document.querySelectorAll("[data-t]").forEach((el) => { if (T[el.dataset.t]) el.textContent = T[el.dataset.t]; });
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";

  // -- sound: short generated tones, no audio files ---------------------------------------------
  let audio = null;
  function tone(freq, ms, at) {
    if (!audio) return;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    osc.type = freq < 400 ? "square" : "sine";
    gain.gain.value = 0.2;
    osc.connect(gain).connect(audio.destination);
    const start = audio.currentTime + (at || 0);
    osc.start(start);
    osc.stop(start + ms / 1000);
  }
  function cue(verdict) {
    if (verdict === "accepted") tone(1046, 120);
    else if (verdict === "warning") { tone(660, 120); tone(660, 120, 0.18); }
    else { tone(220, 450); }
  }
  function unlockAudio() {
    if (!audio && (window.AudioContext || window.webkitAudioContext)) {
      audio = new (window.AudioContext || window.webkitAudioContext)();
    }
  }
  document.addEventListener("keydown", unlockAudio, { once: true });
  document.addEventListener("pointerdown", unlockAudio, { once: true });

  // -- server calls --------------------------------------------------------------------------------
  async function call(method, path, payload) {
    const response = await fetch(path, {
      method, headers: { "X-Counter-Token": token, "Content-Type": "application/json" },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = data.error || { code: "internal", message: String(response.status), message_en: String(response.status) };
      throw error;
    }
    return data;
  }
  const msg = (m) => (lang === "en" ? m.message_en : m.message);

  function show(verdict, reason, raw) {
    const box = $("outcome");
    box.className = "outcome " + verdict;
    $("outcome-title").textContent = T[verdict] || T.ready;
    $("outcome-reason").textContent = reason || "";
    $("outcome-raw").textContent = raw || "";
  }
  function showError(error) {
    show("refused", msg(error), "");
    cue("refused");
  }

  // -- rendering -----------------------------------------------------------------------------------
  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
  }
  function render(view) {
    state = view;
    const warning = $("outbox-warning");
    warning.hidden = !view.outbox_warning;
    warning.textContent = view.outbox_warning ? msg(view.outbox_warning) : "";
    const doc = view.active;
    $("doc-title").textContent = doc
      ? (lang === "en" ? doc.kind_en : doc.kind_zh) + " · " + doc.doc_id
      : T.no_document;
    const tbody = $("lines").querySelector("tbody");
    tbody.replaceChildren();
    for (const line of doc ? doc.lines : []) {
      const row = document.createElement("tr");
      cell(row, String(line.line));
      cell(row, line.name + " (" + line.product + ")" + (line.needs_codes ? "" : " · " + T.exempt));
      cell(row, String(line.quantity) + (line.trdn_flag ? " / " + line.units_per_box : ""));
      cell(row, line.codes.length + " / " + line.boxes_required);
      cell(row, line.missing ? String(line.missing) + (line.override ? " · " + T.override : "") : "",
           line.missing && !line.override ? "missing-cell" : "");
      cell(row, line.codes.map((c) => c.key).join("\n"), "codes");
      tbody.appendChild(row);
    }
    const missing = $("missing");
    if (!doc || doc.kind !== "sale") {
      missing.textContent = "";
    } else if (view.missing.length === 0) {
      missing.textContent = T.all_present;
      missing.className = "missing ok";
    } else {
      missing.className = "missing";
      missing.textContent = T.missing_prefix + view.missing
        .map((m) => fill(T.line_word, m.line) + " " + m.name + " " + fill(T.boxes, m.missing)).join("；");
    }
    const recent = $("recent");
    recent.replaceChildren();
    for (const r of view.recent) {
      const li = document.createElement("li");
      li.className = r.verdict;
      li.textContent = r.at.slice(11, 19) + " " + (T[r.verdict] || r.verdict) + " — " + msg(r) + " [" + r.raw + "]";
      recent.appendChild(li);
    }
    const last = view.last;
    if (last && seen !== null && last.number > seen) {
      show(last.verdict, msg(last), last.raw);
      cue(last.verdict);
    } else if (last && seen === null) {
      show(last.verdict, msg(last), last.raw);
    }
    seen = last ? last.number : 0;
  }

  async function refresh() {
    try {
      render(await call("GET", "/api/v1/counter"));
    } catch (error) {
      $("outbox-warning").hidden = false;
      $("outbox-warning").textContent = T.offline;
    }
  }

  // -- actions -------------------------------------------------------------------------------------
  async function act(fn) {
    try { await fn(); } catch (error) { showError(error); }
    await refresh();
    $("scan").focus();
  }
  const activeId = () => (state && state.active ? state.active.doc_id : "");
  const newSale = () => act(() => call("POST", "/api/v1/documents", { kind: "sale" }));
  const newReceipt = () => act(() => {
    const supplier = window.prompt(T.supplier) || "";
    const invoice = window.prompt(T.invoice) || "";
    return call("POST", "/api/v1/documents", { kind: "receipt", supplier, invoice });
  });
  const check = () => act(async () => {
    const answer = await call("GET", "/api/v1/documents/" + encodeURIComponent(activeId()) + "/settle-check");
    show(answer.allowed ? "accepted" : "refused", msg(answer), "");
    cue(answer.allowed ? "accepted" : "refused");
  });
  const finish = () => act(() => call("POST", "/api/v1/documents/" + encodeURIComponent(activeId()) + "/finish"));
  const cancel = () => act(() => call("POST", "/api/v1/documents/" + encodeURIComponent(activeId()) + "/cancel"));

  $("new-sale").addEventListener("click", newSale);
  $("new-receipt").addEventListener("click", newReceipt);
  $("check").addEventListener("click", check);
  $("finish").addEventListener("click", finish);
  $("cancel").addEventListener("click", cancel);
  $("scan-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("scan");
    const raw = input.value;
    input.value = "";
    if (!raw) return;
    act(() => call("POST", "/counter/scan", { raw }));
  });
  $("line-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const product = $("line-product").value.trim();
    const quantity = Number($("line-quantity").value);
    const trdn_flag = $("line-split").checked ? 1 : 0;
    $("line-product").value = "";
    act(() => call("POST", "/api/v1/documents/" + encodeURIComponent(activeId()) + "/lines",
                   { product, quantity, trdn_flag }));
  });
  document.addEventListener("keydown", (event) => {
    const keys = { F2: newSale, F4: newReceipt, F8: finish, F9: check };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); return; }
    if (event.key === "F3") { event.preventDefault(); $("line-product").focus(); return; }
    if (event.key === "Escape") { $("scan").focus(); return; }
    const target = event.target;
    const typing = target && (target.tagName === "INPUT" || target.tagName === "BUTTON");
    if (!typing && event.key.length === 1) $("scan").focus();  // a scanner's first character
  });

  refresh();
  window.setInterval(refresh, pollMs);
})();
