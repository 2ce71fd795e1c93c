"""Errors of the rules package: only misuse by a caller, never bad data (bad data is a hit or ignored)."""

from collector.errors import CollectorError


class RuleInputError(CollectorError):
    """A rule was called with input it cannot judge (e.g. events of several codes at once)."""
