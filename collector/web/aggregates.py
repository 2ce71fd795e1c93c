"""Daily per-store aggregates (dash_daily, dash_stores), maintained incrementally by event row id.

Events are only ever appended, one writer at a time, so every event with a row id above the
watermark is new: `refresh` counts the next slice set-based in SQL (json_each over settlement
lines for the collection rate, as rule 10 counts it) and moves the watermark, all in one
transaction. Run it periodically (the web server does) and before the overview is drawn.
"""

from __future__ import annotations

import sqlite3

from collector.web.db import write

_DAY = "date(substr(at, 1, 19), ?)"  # the local day of a UTC `stamp()`; works for `Z` and `+00:00` forms

_COUNTS = f"""
INSERT INTO dash_daily (store, day, receipts, sales, settlements, insured, events)
SELECT store, {_DAY} AS d, sum(type = 'receipt'), sum(type = 'sale'), sum(type = 'settlement'),
       sum(type = 'settlement' AND json_extract(CAST(body AS TEXT), '$.payment') = 'insurance'), count(*)
FROM events WHERE rowid > ? AND rowid <= ? GROUP BY store, d
ON CONFLICT (store, day) DO UPDATE SET receipts = receipts + excluded.receipts, sales = sales + excluded.sales,
    settlements = settlements + excluded.settlements, insured = insured + excluded.insured,
    events = events + excluded.events"""

# Rule 10: exempt lines and lines needing no codes are left out; overridden lines count as not collected.
_BOXES = """
INSERT INTO dash_daily (store, day, boxes_required, boxes_coded)
SELECT store, d, sum(required), sum(coded) FROM (
    SELECT e.store, date(substr(e.at, 1, 19), ?) AS d,
           json_extract(l.value, '$.boxes_required') AS required,
           CASE WHEN coalesce(json_extract(l.value, '$.overridden'), 0) THEN 0
                ELSE min(json_extract(l.value, '$.codes'), json_extract(l.value, '$.boxes_required')) END AS coded
    FROM events e, json_each(CAST(e.body AS TEXT), '$.lines') l
    WHERE e.rowid > ? AND e.rowid <= ? AND e.type = 'settlement'
      AND json_extract(CAST(e.body AS TEXT), '$.payment') = 'insurance'
      AND NOT coalesce(json_extract(l.value, '$.exempt'), 0) AND json_extract(l.value, '$.boxes_required') > 0)
WHERE true GROUP BY store, d
ON CONFLICT (store, day) DO UPDATE SET boxes_required = boxes_required + excluded.boxes_required,
    boxes_coded = boxes_coded + excluded.boxes_coded"""

_STORES = f"""
INSERT INTO dash_stores (store, first_day, last_day, events)
SELECT store, min({_DAY}), max({_DAY}), count(*) FROM events WHERE rowid > ? AND rowid <= ? GROUP BY store
ON CONFLICT (store) DO UPDATE SET first_day = min(first_day, excluded.first_day),
    last_day = max(last_day, excluded.last_day), events = events + excluded.events"""


def day_modifier(utc_offset_minutes: int) -> str:
    """The SQLite date modifier that turns UTC into local time (`+480 minutes` for UTC+8)."""
    return f"{utc_offset_minutes:+d} minutes"


def watermark(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT value FROM dash_settings WHERE name = 'daily_rowid'").fetchone()[0])


def refresh(conn: sqlite3.Connection, utc_offset_minutes: int, limit: int = 200_000) -> int:
    """Count up to `limit` events above the watermark; returns how many rows were counted."""
    if conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0] <= watermark(conn):
        return 0  # the common case costs two index lookups and no write lock
    modifier = day_modifier(utc_offset_minutes)
    with write(conn):
        last = watermark(conn)
        top = min(conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0], last + limit)
        if top <= last:
            return 0
        conn.execute(_COUNTS, (modifier, last, top))
        conn.execute(_BOXES, (modifier, last, top))
        conn.execute(_STORES, (modifier, modifier, last, top))
        conn.execute("UPDATE dash_settings SET value = ? WHERE name = 'daily_rowid'", (str(top),))
    return top - last


def refresh_all(conn: sqlite3.Connection, utc_offset_minutes: int, step: int = 1_000_000) -> int:
    """Catch up completely (at start, or after a bulk load)."""
    total = 0
    while (done := refresh(conn, utc_offset_minutes, step)) > 0:
        total += done
    return total


def fresh(conn: sqlite3.Connection) -> sqlite3.Connection:
    """For a page view: bring the aggregates up to date by one bounded step, and return the connection."""
    from flask import current_app

    refresh(conn, current_app.config["DASH_UTC_OFFSET_MINUTES"], limit=50_000)
    return conn
