"""Test helpers for workflows: moto's Step Functions interpreter and LocalStack, as pytest fixtures.

``pytest -p stepstone.testing.fixtures`` (or the ``pytest11`` entry point) gives:
``moto_sfn`` (an in-process AWS that runs compiled workflows with their real steps).
"""
