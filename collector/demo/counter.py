"""The demo's hands at each store's counter: a scanner on a real pseudo-terminal and the POS,
which drives the agent's POS API over HTTP with the store's token."""

from __future__ import annotations

import os
import time
import tty
from pathlib import Path
from typing import Any

import requests

from collector.demo.county import DemoError
from collector.demo.plan import Line, Scan, Via

TERMINATOR = b"\r"  # what the generic-usb-cdc profile expects after each code
SCAN_TIMEOUT_S = 15.0


class PtyScanner:
    """A serial scanner stand-in: the agent opens the slave side through a stable symlink
    (like udev's /dev/serial/by-id link); `send` writes a code the way a scanner does."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no line discipline: bytes pass exactly as sent
        if self.link.is_symlink():
            self.link.unlink()
        self.link.symlink_to(os.ttyname(self._slave))

    def send(self, raw: str) -> None:
        os.write(self.master, raw.encode("utf-8") + TERMINATOR)

    def close(self) -> None:
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


class Counter:
    """One store's POS client; every call checks the answer and raises DemoError when it is not the
    one the scenario expects (the demo never carries on after a surprise)."""

    def __init__(self, store: str, api: str, token: str, scanner: PtyScanner) -> None:
        self.store = store
        self.api = api
        self.scanner = scanner
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, expect: int = 200, **json_body: Any) -> dict[str, Any]:
        try:
            response = self.session.request(method, self.api + path, json=json_body if method == "POST" else None,
                                            timeout=30)
        except requests.RequestException as exc:
            raise DemoError(f"{self.store}: expected the agent's POS API to answer {method} {path}, got {exc}") \
                from None
        if response.status_code != expect:
            raise DemoError(f"{self.store}: expected HTTP {expect} from {method} {path}, got "
                            f"{response.status_code}: {response.text[:300]}")
        return response.json()  # type: ignore[no-any-return]

    def view(self) -> dict[str, Any]:
        return self._call("GET", "/counter")

    def outbox_depth(self) -> int:
        return int(self.view()["outbox"]["depth"])

    def open(self, kind: str, **fields: Any) -> str:
        return str(self._call("POST", "/documents", 201, kind=kind, **fields)["document"]["doc_id"])

    def add_lines(self, doc: str, lines: tuple[Line, ...]) -> None:
        for line in lines:
            self._call("POST", f"/documents/{doc}/lines", 201, product=line.product, quantity=line.quantity,
                       price_fen=line.price_fen, trdn_flag=line.trdn_flag)

    def scan(self, doc: str, scan: Scan, via: Via) -> dict[str, Any]:
        """Scan one code on `doc` and check the counter's answer is the expected one."""
        if via is Via.POS:
            outcome = self._call("POST", f"/documents/{doc}/scans", raw=scan.raw)["outcome"]
        else:
            outcome = self._scan_on_device(scan.raw)
        if outcome.get("code") != scan.expect.value or outcome.get("doc_id") not in (doc, None):
            raise DemoError(f"{self.store}: expected {scan.expect.value!r} for scan {scan.raw!r} on {doc}, got "
                            f"{outcome.get('code')!r}: {outcome.get('message_en')}")
        return outcome

    def _scan_on_device(self, raw: str) -> dict[str, Any]:
        """Write the code into the pseudo-terminal and wait until the counter shows one more scan."""
        last = self.view()["last"]
        before = last["number"] if last else 0
        self.scanner.send(raw)
        deadline = time.monotonic() + SCAN_TIMEOUT_S
        while time.monotonic() < deadline:
            last = self.view()["last"]
            if last and last["number"] > before:
                return last  # type: ignore[no-any-return]
            time.sleep(0.005)  # polling the counter over HTTP: the agent offers no push channel
        raise DemoError(f"{self.store}: expected the counter to show the scanner's code {raw!r} within "
                        f"{SCAN_TIMEOUT_S:g} s, got nothing")

    def override(self, doc: str, line: int, reason: str) -> None:
        self._call("POST", f"/documents/{doc}/overrides", 201, line=line, reason=reason, operator="店长 demo-manager")

    def settle(self, doc: str, setl_id: str, insurance: bool, total_fen: int, fund_fen: int,
               psn_no: str | None) -> None:
        check = self._call("GET", f"/documents/{doc}/settle-check")
        if not check["allowed"]:
            raise DemoError(f"{self.store}: expected settlement of {doc} to be allowed, got {check['message_en']}")
        body: dict[str, Any] = {"setl_id": setl_id, "payment": "insurance" if insurance else "self_pay",
                                "total_fen": total_fen, "fund_fen": fund_fen}
        if psn_no is not None:
            body["psn_no"] = psn_no
        self._call("POST", f"/documents/{doc}/settlement", **body)

    def finish(self, doc: str) -> None:
        self._call("POST", f"/documents/{doc}/finish")

    def cancel(self, doc: str) -> None:
        self._call("POST", f"/documents/{doc}/cancel")
