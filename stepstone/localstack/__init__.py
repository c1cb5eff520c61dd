"""The ``localstack`` target: compiled workflows on LocalStack, with the step code as real
Lambda functions run by host processes (no Docker).

- :mod:`.harness` installs, starts and stops LocalStack (``stepstone localstack up``);
- :mod:`.clients` gives boto3 clients for it (from ``localstack-client``);
- :mod:`.deploy` puts a workflow there: bucket, functions, state machine, trigger rules;
- :mod:`.history` reads a run back from its execution history.
"""

from ..errors import LocalStackError
from .clients import Clients, clients
from .harness import LocalStack

__all__ = ["Clients", "LocalStack", "LocalStackError", "clients"]
