"""Load one validated configuration object from a TOML file plus environment overrides.

Environment variables `PREFIX__SECTION__KEY=value` override `[section] key`; the value is
read as a TOML value when it parses as one (numbers, booleans, quoted strings, arrays),
otherwise as a plain string. Validation is msgspec's: errors name the offending field.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from drugtrace.errors import ConfigError

T = TypeVar("T")


def _parse_env_value(text: str) -> Any:
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def env_overrides(prefix: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """Nested dict built from `PREFIX__A__B=value` variables (keys lower-cased)."""
    result: dict[str, Any] = {}
    marker = prefix.upper() + "__"
    for name, text in environ.items():
        if not name.startswith(marker):
            continue
        path = [part.lower() for part in name[len(marker):].split("__") if part]
        if not path:
            continue
        node = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"Expected {name} to set a key inside a table, got a value at {part!r}.")
        node[path[-1]] = _parse_env_value(text)
    return result


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"Expected a configuration file at {path}, found none.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Expected valid TOML in {path}, got: {exc}") from None


def load_config(
    cls: type[T],
    path: Path | None,
    *,
    env_prefix: str,
    environ: Mapping[str, str] | None = None,
) -> T:
    """Read `path` (optional), apply env overrides, validate into `cls` (a msgspec Struct)."""
    data: dict[str, Any] = read_toml(path) if path is not None else {}
    data = _merge(data, env_overrides(env_prefix, os.environ if environ is None else environ))
    try:
        return msgspec.convert(data, cls, strict=False)
    except msgspec.ValidationError as exc:
        where = f" in {path}" if path is not None else ""
        raise ConfigError(f"Invalid configuration{where}: {exc}") from None
