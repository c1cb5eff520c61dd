"""The CDK app's exceptions: what stops ``cdk synth`` with one line (``cdk/app.py`` prints it)."""

from __future__ import annotations

__all__ = ["BundleError", "PackagesTooLargeError", "SettingsError"]


class SettingsError(Exception):
    """A context value the app cannot use; the message names it and says what it takes."""


class BundleError(Exception):
    """The packages could not be resolved or installed; the message has uv's own words."""


class PackagesTooLargeError(BundleError):
    """A function that fits no zip, in a workflow file that forbids images."""
