"""The contract between compiled state machines and the step runner (``lambdas/``).

Both sides import this package, so every shape is written down once, as a typed record with
one encoding and one decoding:

- ``keys``: where things are: the keys of a run's JSON state and the artifact store's layout;
- ``runs``: a run's input (parameters, what started it) and the ids Step Functions gives it;
- ``envelope``: how a step's output travels through the state;
- ``payload``: a Lambda step's payload (:class:`StepPayload`) and its argument forms;
- ``batch``: a Batch step's call, in its job's environment;
- ``records``: lineage, cache, redrive and approval records;
- ``encoding``: canonical JSON and content hashes;
- ``codecs``, ``carriers``, ``values``: which codec carries a type, and the references that
  stand for values carried by reference.

It imports nothing of stepstone's outside itself: the deployed step runner carries it.
"""

from __future__ import annotations

from .batch import BATCH_ENV, BatchArg, BatchJob, batch_payload
from .encoding import canonical, content_hash
from .envelope import ENVELOPE_KEYS, ENVELOPE_OVERHEAD, envelope
from .errors import ProtocolError
from .keys import (
    MAP_PATH_KEY,
    RESERVED_ROOT_KEYS,
    RUN_KEY,
    RUNS_PREFIX,
    TRIGGER_KEY,
    VARS_KEY,
    approval_key,
    attempt_prefix,
    cache_key,
    cache_prefix,
    item_path,
    output_key,
    redrive_key,
    results_prefix,
    run_prefix,
    step_key,
    step_prefix,
    workflow_prefix,
)
from .payload import (
    DEFAULT_INLINE_LIMIT,
    Argument,
    Dynamic,
    ErrorArg,
    ResultArg,
    ResultsArg,
    StepPayload,
    StoreMode,
    ValueArg,
    decode_argument,
    template,
)
from .records import (
    ApprovalRequest,
    CacheRecord,
    InputInfo,
    Lineage,
    LineageError,
    OutputInfo,
    RedriveRecord,
    RedriveStep,
)
from .runs import (
    RUN_NAME_LIMIT,
    is_redrive,
    machine_of,
    redrive_run_id,
    run_id_of,
    run_input,
    run_name,
    split_input,
    trigger_text,
)
from .values import REF_KEY, ValuePath, ValueRef, by_content, is_value_ref, value_key, value_refs

__all__ = [
    "BATCH_ENV",
    "DEFAULT_INLINE_LIMIT",
    "ENVELOPE_KEYS",
    "ENVELOPE_OVERHEAD",
    "MAP_PATH_KEY",
    "REF_KEY",
    "RESERVED_ROOT_KEYS",
    "RUNS_PREFIX",
    "RUN_KEY",
    "RUN_NAME_LIMIT",
    "TRIGGER_KEY",
    "VARS_KEY",
    "ApprovalRequest",
    "Argument",
    "BatchArg",
    "BatchJob",
    "CacheRecord",
    "Dynamic",
    "ErrorArg",
    "InputInfo",
    "Lineage",
    "LineageError",
    "OutputInfo",
    "ProtocolError",
    "RedriveRecord",
    "RedriveStep",
    "ResultArg",
    "ResultsArg",
    "StepPayload",
    "StoreMode",
    "ValueArg",
    "ValuePath",
    "ValueRef",
    "approval_key",
    "attempt_prefix",
    "batch_payload",
    "by_content",
    "cache_key",
    "cache_prefix",
    "canonical",
    "content_hash",
    "decode_argument",
    "envelope",
    "is_redrive",
    "is_value_ref",
    "item_path",
    "machine_of",
    "output_key",
    "redrive_key",
    "redrive_run_id",
    "results_prefix",
    "run_id_of",
    "run_input",
    "run_name",
    "run_prefix",
    "split_input",
    "step_key",
    "step_prefix",
    "template",
    "trigger_text",
    "value_key",
    "value_refs",
    "workflow_prefix",
]
