"""The AWS resources a compiled definition names, and how it names them: ``${...}``
placeholders that each deployer substitutes with the real ARN or name.

The emitter records every resource it names as it emits it (:class:`ResourceUse`), so what a
state machine needs (its functions, job definitions and queue, the workflows it starts, the
approval function, the artifact bucket) is known from the compiler, never read back from
the ASL text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

__all__ = ["ResourceKind", "ResourceRef", "ResourceUse"]

ResourceKind: TypeAlias = Literal["function", "job_definition", "job_queue", "workflow", "approval_function",
                                  "artifact_bucket"]
_PREFIX: dict[str, str] = {"function": "Function_", "job_definition": "JobDefinition_", "job_queue": "JobQueue_",
                           "workflow": "Workflow_", "approval_function": "ApprovalFunction",
                           "artifact_bucket": "ArtifactBucket"}


@dataclass(frozen=True, order=True, slots=True)
class ResourceRef:
    """One resource a definition names: of ``kind``, for the step or workflow ``name`` (if any)."""

    kind: ResourceKind
    name: str = ""

    @property
    def placeholder(self) -> str:
        """The name inside ``${...}``: ``Function_train_model``, ``JobQueue_train_model``."""
        return _PREFIX[self.kind] + self.name

    @property
    def template(self) -> str:
        return "${" + self.placeholder + "}"


@dataclass
class ResourceUse:
    """What one emission names (filled in as states are made)."""

    used: set[ResourceRef] = field(default_factory=set)

    def __call__(self, kind: ResourceKind, name: str = "") -> str:
        """``${...}`` for this resource, which the definition now names."""
        ref = ResourceRef(kind, name)
        self.used.add(ref)
        return ref.template

    def sorted(self) -> tuple[ResourceRef, ...]:
        return tuple(sorted(self.used))
