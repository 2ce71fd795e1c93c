"""Render the event contract as Markdown tables and JSON Schema (docs/events.md is checked against it).

Regenerate after a schema change: `python -m drugtrace.schema_doc > docs/event-tables.md`.
"""

from __future__ import annotations

import msgspec
import msgspec.inspect as mi

from drugtrace.events import EVENT_TYPES, AnyEvent, Batch


def _type_name(info: mi.Type) -> str:
    if isinstance(info, mi.UnionType):
        return " or ".join(_type_name(t) for t in info.types)
    if isinstance(info, mi.ListType):
        return f"list of {_type_name(info.item_type)}"
    if isinstance(info, mi.StructType):
        return info.cls.__name__
    if isinstance(info, mi.EnumType):
        return " / ".join(f"`{m.value}`" for m in info.cls)
    names = {mi.StrType: "string", mi.IntType: "integer", mi.BoolType: "boolean", mi.FloatType: "number",
             mi.DateTimeType: "RFC 3339 time with offset", mi.DateType: "date", mi.NoneType: "null", mi.RawType: "JSON"}
    name = names.get(type(info), type(info).__name__)
    limits = []
    for attr, word in (("min_length", "min length"), ("max_length", "max length"), ("ge", ">="), ("le", "<=")):
        value = getattr(info, attr, None)
        if value is not None:
            limits.append(f"{word} {value}")
    return f"{name} ({', '.join(limits)})" if limits else name


def _table(cls: type[msgspec.Struct]) -> list[str]:
    rows = ["| field | type | required |", "|---|---|---|"]
    for field in mi.type_info(cls).fields:
        rows.append(f"| `{field.name}` | {_type_name(field.type)} | {'yes' if field.required else 'no'} |")
    return rows


def render_markdown() -> str:
    nested = [cls for cls in _nested_structs()]
    out: list[str] = []
    for cls in EVENT_TYPES:
        out += [f"### `{cls.__struct_config__.tag}` ({cls.__name__})", "", (cls.__doc__ or "").strip().splitlines()[0],
                "", *_table(cls), ""]
    for cls in nested + [Batch]:
        out += [f"### {cls.__name__}", "", *_table(cls), ""]
    return "\n".join(out)


def _nested_structs() -> list[type[msgspec.Struct]]:
    seen: dict[str, type[msgspec.Struct]] = {}

    def walk(info: mi.Type) -> None:
        if isinstance(info, mi.StructType):
            seen.setdefault(info.cls.__name__, info.cls)
            for f in info.fields:
                walk(f.type)
        elif isinstance(info, mi.UnionType):
            for t in info.types:
                walk(t)
        elif isinstance(info, mi.ListType):
            walk(info.item_type)

    for cls in EVENT_TYPES:
        for f in mi.type_info(cls).fields:
            walk(f.type)
    return sorted(seen.values(), key=lambda c: c.__name__)


def json_schema() -> dict[str, object]:
    return msgspec.json.schema(AnyEvent)


if __name__ == "__main__":  # pragma: no cover
    print(render_markdown())
