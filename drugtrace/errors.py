"""The root of every exception DrugTrace raises on purpose."""


class DrugTraceError(Exception):
    """Base class: catch this to handle any DrugTrace failure."""


class ConfigError(DrugTraceError):
    """A configuration file or environment override is invalid."""


class SchemaError(DrugTraceError):
    """An event does not satisfy the wire contract."""
