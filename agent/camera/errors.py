"""Errors the camera package raises on purpose.

``CameraError`` is the root; the agent's error tree will adopt it as a subclass of its own base.
"""

from __future__ import annotations

__all__ = ["CameraError", "ProfileError", "SourceError", "DetectorUnavailable"]


class CameraError(Exception):
    """Base class of every error the camera package raises on purpose."""


class ProfileError(CameraError):
    """A camera profile is missing, malformed or holds a value out of range."""


class SourceError(CameraError):
    """A camera source was described in a way that cannot be opened."""


class DetectorUnavailable(CameraError):
    """A configured detector is not shipped by the installed packages."""
