"""DrugTrace shared core: code classification and the event contract used by agent and collector."""

__version__ = "0.1.0"
