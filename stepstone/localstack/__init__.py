"""LocalStack on this machine, with the step code as real Lambda functions run by host
processes (no Docker). Runs there are the Step Functions target's (``stepstone.targets``).

- :mod:`.harness` installs, starts and stops LocalStack (``stepstone localstack up``);
- :mod:`.clients` gives boto3 clients for it (from ``localstack-client``), and for AWS;
- :mod:`.deploy` puts a workflow there quickly: its deployment plan rendered with API calls;
- ``plugin/``: the Lambda executor LocalStack loads to run functions without Docker.
"""

from ..errors import LocalStackError
from .clients import Clients, clients
from .harness import LocalStack

__all__ = ["Clients", "LocalStack", "LocalStackError", "clients"]
