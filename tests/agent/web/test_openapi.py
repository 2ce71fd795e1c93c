"""docs/pos-openapi.json is valid OpenAPI 3.1, generated from the request structs, and lists every route."""

from __future__ import annotations

import json
import re
from pathlib import Path

from openapi_spec_validator import validate

from agent.web.openapi import render
from tests.agent.web.conftest import Pos

ROOT = Path(__file__).resolve().parents[3]
SPEC_PATH = ROOT / "docs" / "pos-openapi.json"


def test_the_committed_document_is_the_generated_one() -> None:
    assert SPEC_PATH.read_text() == render(), "run: python -m agent.web.openapi > docs/pos-openapi.json"


def test_the_document_validates() -> None:
    validate(json.loads(SPEC_PATH.read_text()))


def test_every_route_of_the_pos_blueprint_is_described(pos: Pos) -> None:
    paths = json.loads(SPEC_PATH.read_text())["paths"]
    app = pos.client.application
    routes = [(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
              for method in rule.methods - {"HEAD", "OPTIONS"}]  # type: ignore[operator]
    assert len(routes) >= 11
    for path, method in routes:
        assert method in paths.get(path, {}), f"{method.upper()} {path} is missing from docs/pos-openapi.json"
    described = {(path, method) for path, item in paths.items() for method in item if method != "parameters"}
    assert described == set(routes), "the OpenAPI document describes routes the blueprint does not have"


def test_the_pos_api_doc_mentions_every_path() -> None:
    text = (ROOT / "docs" / "pos-api.md").read_text()
    for path in json.loads(SPEC_PATH.read_text())["paths"]:
        assert path in text, f"{path} is missing from docs/pos-api.md"
