"""Pseudonyms for insured persons: a keyed hash made at the store (DOMAIN §2).

The key is issued by the county bureau to every store of the county, so one person has the
same pseudonym at every store (needed for cross-store rules) while the real psn_no, which
never leaves the store, cannot be recovered from it without the key.
"""

from __future__ import annotations

import hashlib
import hmac

from drugtrace.errors import ConfigError

MIN_KEY_BYTES = 16


def pseudonymise(psn_no: str, key: bytes) -> str:
    """`p_` + 32 hex characters of HMAC-SHA256(key, psn_no)."""
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(f"Expected a pseudonym key of at least {MIN_KEY_BYTES} bytes, got {len(key)}.")
    digest = hmac.new(key, psn_no.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return "p_" + digest[:32]
