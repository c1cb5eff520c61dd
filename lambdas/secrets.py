"""``Secret``: a password, token or key a step reads while it runs, never a parameter.

    WAREHOUSE = Secret("prod/warehouse-password")             # AWS Secrets Manager (the default)
    API_TOKEN = Secret("/ml/api-token", store="ssm")          # SSM Parameter Store, a SecureString

    @step(secrets=[WAREHOUSE])
    def load(batch: Batch) -> Summary:
        password = WAREHOUSE.value()

Where the value comes from depends on where the step runs:

- deployed (a Lambda function or Batch job whose environment has ``STEPSTONE_SECRETS=aws``,
  which cdk/ and the LocalStack deployer set): from Secrets Manager or Parameter Store
  (decrypted) through Powertools' parameters utility, cached in the warm function for
  ``POWERTOOLS_PARAMETERS_MAX_AGE`` seconds (5 minutes unless set), so a rotated secret is
  picked up within that time;
- anywhere else (the local target, the workflow run as plain Python, tests): from the
  environment variable ``STEPSTONE_SECRET_<NAME>`` (the name upper-cased, every other
  character ``_``: ``STEPSTONE_SECRET_PROD_WAREHOUSE_PASSWORD``). A missing one is a
  :class:`SecretNotSetError` that names the variable.

A step reads only the secrets it declares in ``@step(secrets=[...])``: the declaration is
what grants the deployed step's role the secret, so reading another is an
:class:`UndeclaredSecretError` everywhere, not only once deployed. Both are
``PermanentError``: retrying cannot help. Neither message, nor anything the runner writes
(lineage, logs), ever holds a value.
"""

from __future__ import annotations

import os
import re

from compiler.dsl.secrets import SecretRef
from compiler.dsl.steps import calling_step

from .context import current_step
from .errors import SecretNotSetError, SecretUnavailableError, UndeclaredSecretError

__all__ = ["ENV_PREFIX", "SOURCE_ENV", "Secret", "declared_secrets"]

SOURCE_ENV = "STEPSTONE_SECRETS"  # "aws" where the step runs deployed
ENV_PREFIX = "STEPSTONE_SECRET_"
CACHE_SECONDS = 300  # how long a warm function keeps a value (POWERTOOLS_PARAMETERS_MAX_AGE overrides it)


class Secret(SecretRef):
    """A password, token or key a step reads while it runs, kept in AWS Secrets Manager or SSM Parameter Store.

    Declare it once at module level, list it in the ``@step(secrets=[...])`` of each step
    that reads it (that is what grants the deployed step access, and the only secrets a
    step may read), and read it inside the step with [`value()`][stepstone.Secret.value].
    A secret is never a workflow parameter: parameters are kept in clear in the run's
    history.

    Deployed (``STEPSTONE_SECRETS=aws``, which the deployers set), the value comes from the
    store, cached in a warm function for 5 minutes (``POWERTOOLS_PARAMETERS_MAX_AGE``
    seconds), so a rotated secret is picked up within that time. Anywhere else (the local
    target, tests, the workflow called directly) it comes from the environment variable
    [`env_var`][stepstone.Secret.env_var] names.

    Args:
        name: The secret's name in its store, as the store shows it:
            ``"prod/warehouse-password"``, or ``"/ml/api-token"`` in Parameter Store.
        store: ``"secretsmanager"`` (the default: AWS Secrets Manager) or ``"ssm"`` (an SSM
            Parameter Store SecureString, read decrypted).

    Example:
        ```python
        WAREHOUSE = Secret("prod/warehouse-password")

        @step(secrets=[WAREHOUSE])
        def load(batch: Batch) -> Summary:
            connection = connect(password=WAREHOUSE.value())
            ...
        ```
    """

    __slots__ = ()

    @property
    def env_var(self) -> str:
        """The variable that holds the value outside AWS: ``STEPSTONE_SECRET_PROD_WAREHOUSE_PASSWORD``."""
        return ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", self.name.upper())

    def value(self) -> str:
        """The secret's value, read now: from the store when deployed, else from [`env_var`][stepstone.Secret.env_var].

        Returns:
            The value, as text.

        Raises:
            UndeclaredSecretError: The running step does not list this secret in its
                ``@step(secrets=[...])``, or no step is running.
            SecretNotSetError: Outside AWS, the environment variable is not set.
            SecretUnavailableError: Deployed, the store did not give the value (missing,
                denied or throttled).
        """
        self._check_declared()
        if os.environ.get(SOURCE_ENV) == "aws":
            return _read_aws(self)
        found = os.environ.get(self.env_var)
        if found is None:
            raise SecretNotSetError(
                f"{self!r} is not set here: outside AWS a step reads it from the environment variable "
                f"{self.env_var}; set it (export {self.env_var}=...) before running")
        return found

    def _check_declared(self) -> None:
        running = declared_secrets()
        if running is None:
            raise UndeclaredSecretError(
                f"{self!r}.value() was called outside a step; secrets are read by the step that uses them, while "
                f"it runs: call it inside a @step(secrets=[...]) that lists it")
        step, declared = running
        if not any(secret.key == self.key for secret in declared):
            raise UndeclaredSecretError(
                f"step {step!r} reads {self!r}, which it does not declare: add it to the step's "
                f"@step(secrets=[...]) (the declaration is what grants the deployed step access to it)")


def declared_secrets() -> tuple[str, tuple[SecretRef, ...]] | None:
    """The running step's name and the secrets it declares; None outside any step.

    In a run the step runner's context decides: a step that calls another step's function
    runs with its own function's grants, so with its own declarations. A step function
    called as plain Python declares what its ``@step(secrets=[...])`` says.
    """
    context = current_step().get()
    if context is not None:
        name = context.step.state if context.step is not None else "this step"
        return name, tuple(context.secrets)
    calling = calling_step()
    return (calling.name, calling.secrets) if calling is not None else None


def _read_aws(secret: Secret) -> str:
    # Powertools (and boto3 with it) only where the step runs deployed: the local path never pays for it
    from aws_lambda_powertools.utilities import parameters

    max_age = int(os.environ.get("POWERTOOLS_PARAMETERS_MAX_AGE") or CACHE_SECONDS)
    try:
        if secret.store == "ssm":
            found: object = parameters.get_parameter(secret.name, decrypt=True, max_age=max_age)
        else:
            found = parameters.get_secret(secret.name, max_age=max_age)
    except parameters.GetParameterError as exc:
        raise SecretUnavailableError(f"{secret!r} could not be read from {secret.where}: {exc}") from None
    if isinstance(found, bytes):  # a binary secret (SecretBinary)
        return found.decode("utf-8")
    if not isinstance(found, str):
        raise SecretUnavailableError(f"{secret!r} in {secret.where} holds no text value")
    return found
