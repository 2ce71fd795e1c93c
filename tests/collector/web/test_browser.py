"""The dashboard in Debian's headless Chromium (Playwright): an alert raised by REAL ingest through a real
Mosquitto is signed in to, opened, acknowledged and closed; script-like text never runs; screenshots are
kept in test-artifacts/dashboard/."""

from __future__ import annotations

import queue
import shutil
from pathlib import Path

import pytest

from collector.broker.topics import events_topic
from collector.ingest.stats import IngestStats
from collector.ingest.subscriber import Subscriber
from collector.ledger_service import LedgerService
from collector.store.sqlite import SQLiteLedger
from collector.web import create_app
from collector.web.accounts import Role, add_user
from collector.web.db import connect, write
from collector.web.serve import WebServer, app_settings
from drugtrace.events import Code, CodeKind
from drugtrace.wire import encode_batch
from tests.collector.brokers import Client, secured_broker
from tests.collector.helpers import BOX
from tests.collector.web.support import receipt, sale

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "dashboard"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
EVIL_CODE = Code(key="<img src=x onerror=alert('code')>", kind=CodeKind.UNCLASSIFIED)
EVIL_NOTE = "<script>alert('note')</script> checked the boxes"
pytestmark = [pytest.mark.slow, pytest.mark.mosquitto,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/dev.sh installs it)")]


class Committed:
    """Wraps the ledger service (whatever its ingest method is called) so the test waits for commits, not sleeps."""

    def __init__(self, service: LedgerService) -> None:
        self.service = service
        self.done: queue.Queue[None] = queue.Queue()

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        attr = getattr(self.service, name)
        if not name.startswith("ingest"):
            return attr

        def committed(*args, **kwargs):  # type: ignore[no-untyped-def]
            outcome = attr(*args, **kwargs)
            self.done.put(None)
            return outcome
        return committed

    def wait_until(self, condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
        while not condition():
            self.done.get(timeout=timeout)


def test_auditor_signs_in_opens_a_real_duplicate_alert_and_closes_it(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with secured_broker("mosquitto", tmp_path) as broker:
        config = broker.config
        ledger_path = config.path(config.store.path)
        app = create_app({**app_settings(config), "SECRET_KEY": "browser-test"})  # migrations before ingest
        conn = connect(ledger_path)
        with write(conn):
            add_user(conn, "li.auditor", "auditor-password-1", Role.AUDITOR, config_now())
        conn.close()
        ledger = SQLiteLedger(ledger_path)
        service = Committed(LedgerService(ledger, config.county, config.rules))
        subscriber = Subscriber(service, config.broker, broker.accounts["collector"].password,  # type: ignore[arg-type]
                                config.ingest, IngestStats())
        subscriber.start()
        assert subscriber.subscribed.wait(15)
        s1 = Client(broker.port, "S1", broker.accounts["S1"].password, "agent-S1")
        s2 = Client(broker.port, "S2", broker.accounts["S2"].password, "agent-S2")
        s1.publish(events_topic(config.county, "S1"), encode_batch("S1", [
            receipt("S1", 1, 0), sale("S1", 2, 10), receipt("S1", 3, 1, EVIL_CODE), sale("S1", 4, 11, EVIL_CODE)]))
        s2.publish(events_topic(config.county, "S2"), encode_batch("S2", [sale("S2", 1, 20),
                                                                          sale("S2", 2, 21, EVIL_CODE)]))
        reader = connect(ledger_path)  # the ledger's own connection belongs to the ingest thread
        service.wait_until(lambda: reader.execute(
            "SELECT count(*) FROM alerts WHERE rule = 'sold_at_two_stores'").fetchone()[0] == 2)
        reader.close()
        server = WebServer(app, "127.0.0.1", 0, refresh_seconds=3600).start()
        base = f"http://127.0.0.1:{server.server_port}"
        dialogs: list[str] = []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            with sync_playwright() as p:
                context = p.chromium.launch_persistent_context(
                    str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS, locale="zh-CN")
                page = context.new_page()
                page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
                page.goto(base + "/")
                expect(page).to_have_url(base + "/login?next=/")
                page.fill("#username", "li.auditor")
                page.fill("#password", "auditor-password-1")
                page.click("#sign-in")
                expect(page.locator("#card-alerts .big")).to_have_text("2")
                expect(page.locator("#alerts-by-rule")).to_contain_text("回流药嫌疑")
                page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
                page.click("text=预警")
                page.select_option("select[name=rule]", "sold_at_two_stores")
                page.click("#alert-filters button[type=submit]")
                links = page.locator("a.alert-link")
                expect(links).to_have_count(2)  # the real box and the script-like one, both sold at S1 and S2
                row = page.locator("tr", has=page.locator(f"a[href='/codes/?code={BOX.key}']"))
                row.locator("a.alert-link").click()
                expect(page.locator("#evidence")).to_contain_text("S2")
                expect(page.locator("#history")).to_contain_text("采购入库")
                page.fill("#ack-form input[name=note]", EVIL_NOTE)
                page.click("#acknowledge")
                expect(page.locator("#alert-status")).to_contain_text("处理中")
                page.select_option("#closure", "confirmed_fraud")
                page.fill("#close-note", EVIL_NOTE)
                page.click("#close")
                expect(page.locator("#alert-status")).to_contain_text("已确认")
                expect(page.locator("#trail")).to_contain_text(EVIL_NOTE)  # shown as text ...
                page.screenshot(path=str(ARTIFACTS / "alert.png"), full_page=True)
                page.goto(base + "/alerts/?status=&rule=sold_at_two_stores")
                page.locator("tr", has=page.locator("a[href^='/codes/?code=%3Cimg']")).locator("a.alert-link").click()
                expect(page.locator("#alert-facts")).to_contain_text(EVIL_CODE.key)  # ... like the evil code
                page.goto(base + "/codes/?code=" + "%3Cimg%20src%3Dx%20onerror%3Dalert('code')%3E")
                expect(page.locator("#verdict")).to_contain_text("已销售两次及以上")
                context.close()
        finally:
            server.shutdown()
            subscriber.stop()
            ledger.close()
            s1.close()
            s2.close()
        assert dialogs == []  # no script from a code, a store's data or a note ran
        check = connect(ledger_path)
        status = check.execute("SELECT status, closure FROM alerts WHERE code = ?", (BOX.key,)).fetchone()
        check.close()
        assert status == ("confirmed", "confirmed_fraud")
        assert (ARTIFACTS / "overview.png").stat().st_size > 0 and (ARTIFACTS / "alert.png").stat().st_size > 0


def config_now():  # type: ignore[no-untyped-def]
    import datetime as dt
    return dt.datetime.now(dt.timezone.utc)
