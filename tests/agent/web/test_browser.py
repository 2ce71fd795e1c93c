"""The counter page in a real headless Chromium: its script renders the state a scan left behind."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from agent.counter import DocKind
from agent.web import WebSettings, create_app
from tests.agent.counter.helpers import make_service, nmpa

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TOKEN = "browser-test-token-0123456789"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                                                              "(scripts/dev.sh installs it)")]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, object]]:
    service, outbox = make_service(tmp_path / "outbox.sqlite")
    server = make_server("127.0.0.1", 0, create_app(service, WebSettings(token=TOKEN)), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", service
    server.shutdown()
    thread.join(timeout=10)
    outbox.close()


def _dump_dom(url: str, profile: Path) -> str:
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
         "--dump-dom", url],
        capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_page_shows_the_refusal_in_large_words_and_the_missing_boxes(served, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, service = served
    doc = service.open_document(DocKind.SALE)
    service.add_line(doc.doc_id, "XA01", quantity=2)
    service.handle_scan(nmpa("8123456", 1).encode() + b"\r\n", "serial0")
    service.handle_scan(b"6901234567892<script>alert(1)</script>\r\n", "serial0")
    dom = _dump_dom(url + "/", tmp_path / "profile")
    assert 'class="outcome refused"' in dom, dom[:3000]
    assert "✖ 拒绝" in dom and "阿莫西林胶囊 (XA01)" in dom
    assert "还缺追溯码：第1行 阿莫西林胶囊 1盒" in dom
    assert nmpa("8123456", 1) in dom
    assert "<script>alert(1)</script>" not in dom and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom


def test_english_switch_renders_english_labels(served, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, service = served
    service.handle_scan(b"6901234567892\r\n", "serial0")
    dom = _dump_dom(url + "/?lang=en", tmp_path / "profile")
    assert "✖ Refused" in dom and "This is a commodity barcode" in dom and "No open document" in dom

