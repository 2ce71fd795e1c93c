"""The collector's exception tree (rooted at drugtrace.errors.DrugTraceError)."""

from drugtrace.errors import DrugTraceError


class CollectorError(DrugTraceError):
    """Base class of every error the collector raises on purpose."""
