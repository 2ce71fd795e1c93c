"""The agent's exception tree (rooted at drugtrace.errors.DrugTraceError)."""

from drugtrace.errors import DrugTraceError


class AgentError(DrugTraceError):
    """Base class of every error the agent raises on purpose."""


class OutboxFull(AgentError):
    """The outbox reached its size cap: new scans are refused (never dropped) until it drains."""


class ConfigurationError(AgentError):
    """The agent's configuration or a profile is invalid."""
