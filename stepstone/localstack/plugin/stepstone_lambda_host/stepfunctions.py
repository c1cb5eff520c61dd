"""Two fixes to LocalStack's Step Functions interpreter, applied when the plugin loads.

Both were found by the load tests (tests/e2e/test_load.py); both are in localstack-core
2026.3.0 and 4.9.2 alike. Each is applied only where LocalStack still has the code it
replaces, and a failure to apply one is logged, never raised: the executor must load.

1. **A distributed Map's results are dropped.** LocalStack's ``ResultWriter`` (S3
   ``putObject``) writes a ``manifest.json`` whose ``ResultFiles`` are always empty: it
   pops the results off the stack unused (``env.stack.pop()  # TODO: results``; upstream
   PR localstack/localstack#11381: "Generation of individual result json is not supported
   yet"). A step that reads the fan-out's results then gets an empty list. Here the
   results are written as AWS writes them: ``<Prefix>/<map run id>/SUCCEEDED_0.json``, a
   list of ``{"Output": <JSON text>, "Status": "SUCCEEDED", ...}`` in item order (LocalStack
   sorts the closed jobs by index; it keeps no child inputs, so ``Input`` is absent), and
   the manifest lists that file.

2. **Every JSONPath is parsed again at every evaluation.** ``jsonpath_ng``'s ``parse()``
   builds a new parser each call, and with it ply's LALR tables (about 15 ms of CPU for the
   extended grammar, 6 ms for the plain one); LocalStack's interpreter calls it for each
   path of each state it evaluates (``extract_json``, ``ResultPath``). Sampled while a
   500-item Map ran, this was 56 % of LocalStack's busy time (it runs its interpreter
   under one GIL, so this bounds every run's speed). The parsed paths are immutable
   (their nodes set attributes only in ``__init__``), so they are memoized by their text.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import logging
from typing import Any

LOG = logging.getLogger(__name__)

_STATE_MAP = "localstack.services.stepfunctions.asl.component.state.state_execution.state_map"
_applied: set[str] = set()


def apply() -> None:
    """Apply each fix once (the executor plugin loads more than once)."""
    for name, fix in (("distributed Map results", _write_map_results), ("JSONPath parsing", _memoize_paths)):
        if name in _applied:
            continue
        _applied.add(name)
        try:
            if fix():
                LOG.info("stepstone: LocalStack Step Functions fix applied: %s", name)
        except Exception as e:  # LocalStack changed: run without this fix rather than without the executor
            LOG.warning("stepstone: cannot apply the Step Functions fix for %s: %s", name, e)


# --------------------------------------------------------------------------------------
# 1. a distributed Map's results


def _write_map_results() -> bool:
    module = importlib.import_module(f"{_STATE_MAP}.result_writer.resource_eval.resource_eval_s3")
    cls = module.ResourceEvalS3
    original = cls._handle_put_object
    if "TODO: results" not in inspect.getsource(original):
        return False  # already ours, or a LocalStack that writes the results itself
    s3_client = cls._get_s3_client

    def put_results(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        """LocalStack's ``ResourceEvalS3._handle_put_object``, with the results written."""
        parameters = env.stack.pop()
        results = env.stack.pop()  # the Map's outputs, in item order
        s3 = s3_client(resource_runtime_part=resource_runtime_part, state_credentials=state_credentials)
        map_run_arn = env.map_run_record_pool_manager.get_all().pop().map_run_arn  # found as LocalStack finds it
        env.stack.append(write_results(s3, parameters["Bucket"], parameters.get("Prefix") or "", map_run_arn,
                                       results))

    cls._handle_put_object = staticmethod(put_results)
    return True


def write_results(s3: Any, bucket: str, prefix: str, map_run_arn: str, results: Any) -> dict[str, Any]:
    """Write a Map run's results and their manifest as AWS's result writer does; returns the
    state's result (``MapRunArn`` and ``ResultWriterDetails``)."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    folder = prefix + map_run_arn.split(":")[-1] + "/"
    succeeded: list[dict[str, Any]] = []
    if isinstance(results, list):
        records = [{"MapRunArn": map_run_arn, "Output": json.dumps(result), "OutputDetails": {"Included": True},
                    "Status": "SUCCEEDED"} for result in results]
        body = json.dumps(records).encode("utf8")
        s3.put_object(Bucket=bucket, Key=folder + "SUCCEEDED_0.json", Body=body)
        succeeded.append({"Key": folder + "SUCCEEDED_0.json", "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn,
                "ResultFiles": {"FAILED": [], "PENDING": [], "SUCCEEDED": succeeded}}
    key = folder + "manifest.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest, indent=2).encode("utf8"))
    return {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": key}}


# --------------------------------------------------------------------------------------
# 2. JSONPath parsing


def _memoize_paths() -> bool:
    changed = False
    for name in ("localstack.services.stepfunctions.asl.utils.json_path",
                 "localstack.services.stepfunctions.asl.component.common.path.result_path"):
        module = importlib.import_module(name)
        parse = module.parse  # jsonpath_ng.ext.parse and jsonpath_ng.parse respectively
        if not hasattr(parse, "cache_info"):
            setattr(module, "parse", functools.lru_cache(maxsize=4096)(parse))  # noqa: B010 (a module's global)
            changed = True
    return changed
