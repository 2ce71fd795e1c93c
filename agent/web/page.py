"""The counter page blueprint: the staff's screen (zh-CN, English switch), usable by keyboard and scanner.

The page polls /api/v1/counter with its page token and posts keyboard-wedge scans (text ending in
Enter in a focused input) to /counter/scan, where they are handled exactly like a device scan.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from agent.counter import MessageCode
from agent.web import schemas
from agent.web.api import authorised, body, service
from agent.web.errors import ApiError
from agent.web.serialise import outcome_json

page = Blueprint("page", __name__, template_folder="templates", static_folder="static",
                 static_url_path="/static/counter")

SOURCE = "page"


@page.get("/")
def counter_page() -> str:
    state = current_app.extensions["drugtrace"]
    language = request.args.get("lang", state["settings"].language)
    return render_template("counter.html", page_token=state["page_token"],
                           language="en" if language == "en" else "zh", poll_ms=state["settings"].poll_ms)


@page.post("/counter/scan")
def page_scan() -> Response:
    """A keyboard-wedge scan typed into the page: goes to the active document like any device scan."""
    if not authorised():
        raise ApiError.of(MessageCode.UNAUTHORIZED)
    scan = body(schemas.PageScan)
    outcome = service().handle_scan(scan.raw.encode("utf-8"), SOURCE)
    return jsonify({"outcome": outcome_json(outcome)})
