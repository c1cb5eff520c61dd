"""A run as OpenLineage RunEvents, for Marquez, DataHub and other OpenLineage servers
(``stepstone lineage RUN --format openlineage``).

The workflow run is a job run (job ``<workflow>``) with a START and a COMPLETE, FAIL or ABORT
event; each step is one too (job ``<workflow>.<state>``, a fan-out's items several runs of one
job), with the workflow run as its ``parent``, the stored values it read as inputs and the ones
it made as outputs (datasets named by their keys in the run's store, with a ``stepstone`` facet:
codec, media type, size, content hash). Run ids are UUIDs derived from the run's id and the
step's key (uuid5), so exporting a run twice sends the same runs again, not new ones.

Written by hand rather than with ``openlineage-python``: an event is a few plain JSON objects
(spec 2-0-2: RunEvent, Run, Job, InputDataset/OutputDataset, BaseFacet, the parent run facet),
and the client would add a dependency, and its HTTP transports, to every install for one
export. ``tests/unit/test_lineage_cmd.py`` checks the fields the spec requires.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeAlias

from lambdas.store import ArtifactStore

from ..records import RunRecord
from .model import Graph, OutputNode, ParamNode, ValueNode

__all__ = ["PRODUCER", "SCHEMA_URL", "dataset_namespace", "openlineage_events", "run_uuid"]

JSON: TypeAlias = Any
PRODUCER = "https://github.com/stepstone/stepstone"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
_PARENT_SCHEMA = "https://openlineage.io/spec/facets/1-1-0/ParentRunFacet.json#/$defs/ParentRunFacet"
# stepstone's own facets (a dataset's codec and hash, a step's attempt) are described where users read about them
_FACET_SCHEMA = "https://github.com/stepstone/stepstone/blob/main/docs/operating.md#lineage-what-went-into-a-value"
_ENDS = {"succeeded": "COMPLETE", "cached": "COMPLETE", "reused": "COMPLETE", "failed": "FAIL",
         "interrupted": "ABORT"}


def run_uuid(workflow: str, run: str, step: str | None = None) -> str:
    """The OpenLineage runId of a run (or of one of its steps, by its key): always the same one."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{PRODUCER}/runs/{workflow}/{run}" + (f"/{step}" if step else "")))


def dataset_namespace(store: ArtifactStore) -> str:
    """Where a run's values are, as a dataset namespace: ``s3://<bucket>`` or ``file://<folder>``."""
    where = store.location("").rstrip("/")
    return where if where.startswith("s3://") else f"file://{where}"


def _facet(**fields: JSON) -> dict[str, JSON]:
    return {"_producer": PRODUCER, "_schemaURL": _FACET_SCHEMA, **{k: v for k, v in fields.items() if v is not None}}


def _datasets(graph: Graph, nodes: list[str], namespace: str) -> list[dict[str, JSON]]:
    found: dict[str, dict[str, JSON]] = {}
    trigger = graph.trigger[5:].partition("/") if graph.trigger.startswith("s3://") else None
    for node in (graph.nodes[n] for n in nodes):
        if isinstance(node, ValueNode):
            ref = node.ref
            found[ref.key] = {"namespace": namespace, "name": ref.key, "facets": {"stepstone": _facet(
                codec=ref.codec, mediaType=ref.media_type, bytes=ref.bytes, contentHash=ref.hash, type=ref.type)}}
        elif isinstance(node, OutputNode) and node.stored:
            found[node.stored] = {"namespace": namespace, "name": node.stored, "facets": {"stepstone": _facet(
                codec="json", mediaType="application/json", bytes=node.bytes, contentHash=node.hash)}}
        elif isinstance(node, ParamNode) and trigger is not None and node.value == trigger[2]:
            found[graph.trigger] = {"namespace": f"s3://{trigger[0]}", "name": trigger[2]}  # the file it started with
    return list(found.values())


def _event(kind: str, time: str, run: dict[str, JSON], job: dict[str, JSON], inputs: list[dict[str, JSON]],
           outputs: list[dict[str, JSON]]) -> dict[str, JSON]:
    return {"eventType": kind, "eventTime": time, "run": run, "job": job, "inputs": inputs, "outputs": outputs,
            "producer": PRODUCER, "schemaURL": SCHEMA_URL}


def openlineage_events(record: RunRecord, graph: Graph, *, datasets: str,
                       namespace: str = "stepstone") -> list[dict[str, JSON]]:
    """The run's RunEvents, in time order: the workflow run's START, each step's START and
    COMPLETE (or FAIL), the workflow run's end. ``datasets`` is the namespace of the run's
    store (:func:`dataset_namespace`), ``namespace`` the jobs'. A step still running has no
    end event yet."""
    parent_run = {"runId": run_uuid(record.workflow, record.run_id)}
    parent_job = {"namespace": namespace, "name": record.workflow}
    bucket, _, key = graph.trigger[5:].partition("/")
    trigger = [{"namespace": f"s3://{bucket}", "name": key}] if graph.trigger.startswith("s3://") else []
    events = [_event("START", record.started, parent_run, parent_job, trigger, [])]
    for step in sorted(graph.steps(), key=lambda s: s.started):
        run = {"runId": run_uuid(record.workflow, record.run_id, step.key), "facets": {
            "parent": {"_producer": PRODUCER, "_schemaURL": _PARENT_SCHEMA, "job": parent_job, "run": parent_run},
            "stepstone": _facet(step=step.step, state=step.state, mapPath=step.map_path, attempt=step.attempt,
                                status=step.status, codeHash=step.code_hash, cache=step.cache, error=step.error)}}
        job = {"namespace": namespace, "name": f"{record.workflow}.{step.state}"}
        inputs = _datasets(graph, [e.source for e in graph.into(step.id)], datasets)
        events.append(_event("START", step.started, run, job, inputs, []))
        if step.finished and step.status in _ENDS:
            outputs = _datasets(graph, [e.target for e in graph.out_of(step.id) if e.how == "made"], datasets)
            events.append(_event(_ENDS[step.status], step.finished, run, job, inputs, outputs))
    if record.finished and record.status in _ENDS:
        events.append(_event(_ENDS[record.status], record.finished, parent_run, parent_job, trigger, []))
    return events
