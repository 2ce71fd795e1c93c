"""Errors of the notifiers (configuration mistakes found at start)."""

from collector.errors import CollectorError


class NotifyError(CollectorError):
    """The notifier cannot start as configured."""
