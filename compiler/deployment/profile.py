"""What the place a workflow is deployed to needs of its compiled state machine and rules.

AWS takes the definition as compiled. LocalStack differs in four ways, each handled here
once, for both deployers (the CDK app and the quick LocalStack deployer):

- it has no AWS Batch: Batch steps compile to invocations of the step runner's Lambda function
  (which writes the output where the job would, so every other state is the same);
- every concurrent Lambda invocation there is a process of this machine, and its Step
  Functions interpreter runs under one GIL: every fan-out runs at most
  :data:`LOCALSTACK_MAP_CONCURRENCY` items at once (a distributed Map with no limit would
  start one process per item; on 2 cores a 100-item Map took 27, 30 and 33 s at 4, 8 and
  16 at once, so more only costs memory);
- its S3 events percent-encode the object's key (AWS's do not): upload rules go through
  the S3 relay function, which decodes the key and starts the run;
- EventBridge Scheduler accepts schedules there but never fires them: schedules an
  EventBridge rule can say (rates, and crons in UTC) become rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["AWS_PROFILE", "LOCALSTACK_MAP_CONCURRENCY", "LOCALSTACK_PROFILE", "TargetProfile"]

LOCALSTACK_MAP_CONCURRENCY = 8


@dataclass(frozen=True)
class TargetProfile:
    name: Literal["aws", "localstack"]
    batch_as_lambda: bool = False
    map_concurrency: int | None = None  # the most items any fan-out runs at once there
    s3_keys_encoded: bool = False
    schedules_as_rules: bool = False


AWS_PROFILE = TargetProfile("aws")
LOCALSTACK_PROFILE = TargetProfile("localstack", batch_as_lambda=True, map_concurrency=LOCALSTACK_MAP_CONCURRENCY,
                                   s3_keys_encoded=True, schedules_as_rules=True)
