"""boto3 clients for LocalStack, from ``localstack-client``: no hand-rolled endpoint settings.

``clients()`` points every client at the LocalStack stepstone starts (127.0.0.1:4566, or
``$STEPSTONE_LOCALSTACK_HOST``) with LocalStack's test credentials; user code and tests
can use it too::

    from stepstone.localstack import clients
    s3 = clients().s3
"""

from __future__ import annotations

import functools
import os
from typing import Any

from ..errors import TargetError
from .harness import DEFAULT_HOST

__all__ = ["ACCOUNT", "REGION", "AwsClients", "Clients", "aws_clients", "clients"]

REGION = "us-east-1"
ACCOUNT = "000000000000"  # LocalStack's account for the "test" access key


class Clients:
    """The AWS clients stepstone uses, made once each."""

    def __init__(self, host: str | None = None) -> None:
        from localstack_client.session import Session

        self.host = host or os.environ.get("STEPSTONE_LOCALSTACK_HOST") or DEFAULT_HOST
        self.session = Session(aws_access_key_id="test", aws_secret_access_key="test", aws_session_token=None,
                               region_name=REGION, localstack_host=self.host)

    def check(self) -> None:
        """Raise :class:`~stepstone.errors.TargetError` with what to do when LocalStack does not answer."""
        from .harness import LocalStack

        if LocalStack(host=self.host).health() is None:
            raise TargetError(f"LocalStack is not running on {self.host}", "start it with `stepstone localstack up`")

    def client(self, service: str) -> Any:
        from botocore.config import Config

        # StartSyncExecution's host prefix ("sync-states.") does not resolve on 127.0.0.1
        config = Config(inject_host_prefix=False, retries={"mode": "standard", "max_attempts": 3},
                        connect_timeout=5, read_timeout=70)
        return self.session.client(service, config=config)

    @functools.cached_property
    def s3(self) -> Any:
        return self.client("s3")

    @functools.cached_property
    def sfn(self) -> Any:
        return self.client("stepfunctions")

    @functools.cached_property
    def lambda_(self) -> Any:
        return self.client("lambda")

    @functools.cached_property
    def iam(self) -> Any:
        return self.client("iam")

    @functools.cached_property
    def events(self) -> Any:
        return self.client("events")

    @functools.cached_property
    def logs(self) -> Any:
        return self.client("logs")


class AwsClients(Clients):
    """The same clients for AWS itself: the default credential chain and region (AWS_PROFILE,
    AWS_REGION, ~/.aws/config...), as the AWS CLI and the CDK CLI find them."""

    def __init__(self) -> None:  # no LocalStack host here
        import boto3

        self.host = ""
        self.session = boto3.Session()

    def client(self, service: str) -> Any:
        from botocore.config import Config

        config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10, read_timeout=70)
        return self.session.client(service, config=config)

    @functools.cached_property
    def sts(self) -> Any:
        return self.client("sts")

    def check(self) -> None:
        """Raise :class:`~stepstone.errors.TargetError` with what to do when AWS does not take these credentials."""
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

        try:
            if not self.session.region_name:
                raise NoRegionError()
            self.sts.get_caller_identity()
        except NoCredentialsError:
            raise TargetError("no AWS credentials found", "configure them (`aws configure`, AWS_PROFILE or "
                              "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or use --target localstack") from None
        except NoRegionError:
            raise TargetError("no AWS region set", "set AWS_DEFAULT_REGION (or a region in ~/.aws/config)") from None
        except (BotoCoreError, ClientError) as exc:
            raise TargetError(f"AWS refuses these credentials: {exc}",
                              "check them with `aws sts get-caller-identity`") from None


@functools.cache
def aws_clients() -> AwsClients:
    return AwsClients()


@functools.cache
def _clients(host: str) -> Clients:
    return Clients(host)


def clients(host: str | None = None) -> Clients:
    """Clients for the LocalStack at ``host`` (default: the one ``stepstone localstack up`` starts)."""
    return _clients(host or os.environ.get("STEPSTONE_LOCALSTACK_HOST") or DEFAULT_HOST)
