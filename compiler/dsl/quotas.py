"""What AWS allows: the service quotas stepstone checks against, in one place.

The DSL checks a step's options against them where they are written, the compiler checks a
whole workflow against them, the cost model and the deployers read them. Each is a fixed
(not adjustable) quota or limit as AWS documents it; the link says where.
"""

from __future__ import annotations

__all__ = [
    "BATCH_GPUS_RANGE",
    "BATCH_MEMORY_RANGE",
    "BATCH_VCPUS_RANGE",
    "DEFINITION_LIMIT",
    "DISTRIBUTED_MAP_CONCURRENCY",
    "ERROR_CAUSE_LIMIT",
    "EXPRESS_MAX_SECONDS",
    "HISTORY_LIMIT",
    "INLINE_MAP_CONCURRENCY",
    "LAMBDA_MAX_TIMEOUT",
    "LAMBDA_MEMORY_RANGE",
    "PAYLOAD_LIMIT",
    "STATE_NAME_LIMIT",
]

# AWS Lambda (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)
LAMBDA_MAX_TIMEOUT = 900  # seconds
LAMBDA_MEMORY_RANGE = (128, 10_240)  # MB

# AWS Step Functions (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html)
PAYLOAD_LIMIT = 256 * 1024  # bytes of any state's input or output, and of a run's input
DEFINITION_LIMIT = 1024 * 1024  # bytes of a state machine definition
HISTORY_LIMIT = 25_000  # events in one Standard run's history
STATE_NAME_LIMIT = 80  # characters of a state's name
ERROR_CAUSE_LIMIT = 32_768  # characters of an error's cause
EXPRESS_MAX_SECONDS = 300  # the longest an Express run may take
INLINE_MAP_CONCURRENCY = 40  # items an inline Map runs at once, at most
DISTRIBUTED_MAP_CONCURRENCY = 10_000  # child executions a distributed Map runs at once, at most

# AWS Batch job definitions (the ranges stepstone accepts for Batch(...))
BATCH_GPUS_RANGE = (0, 8)
BATCH_VCPUS_RANGE = (1, 192)
BATCH_MEMORY_RANGE = (512, 1_572_864)  # MiB
