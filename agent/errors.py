"""The agent's exception tree (rooted at drugtrace.errors.DrugTraceError)."""

from drugtrace.errors import DrugTraceError


class AgentError(DrugTraceError):
    """Base class of every error the agent raises on purpose."""
