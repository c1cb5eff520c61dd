"""The CDK app's exceptions: what stops ``cdk synth`` with one line (``cdk/app.py`` prints it)."""

from __future__ import annotations

__all__ = ["BundleError", "SettingsError"]


class SettingsError(Exception):
    """A context value the app cannot use; the message names it and says what it takes."""


class BundleError(Exception):
    """The dependencies could not be downloaded; the message has pip's own words."""
