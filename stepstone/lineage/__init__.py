"""Lineage of every value (``stepstone lineage``): what went into it, what came out of it, and
which runs used it.

Each step attempt leaves ``runs/<workflow>/<run>/[<map_path>/]<state>/attempt-<n>/lineage.json``
(:class:`~compiler.protocol.records.Lineage`). :func:`build_graph` reads the last attempt of
each step of a run into a :class:`Graph`: the run's parameters, its steps (status, attempt,
code hash), each value a codec stored by reference (codec, class, size, content hash) and each
step's JSON output (its hash; a step whose whole output is one stored value has only that),
with edges producer -> value ("made") and value -> consumer (the input's name, and how it was
linked). :func:`find_uses` looks for one value or file in the newest runs;
:func:`openlineage_events` writes a run as OpenLineage RunEvents.

An input is linked to what made it, the exact ways first:

1. ``key``: each stored value the input names (``InputInfo.values``) to the step whose output
   holds that key; a key of another run (a nested workflow's value) to the attempt it names;
2. ``ref`` (``field`` when the hashes differ: a field of it): the stored output the input came
   from (``InputInfo.ref``; a Batch step's output key too) to the step that stored it; a
   distributed fan-out's results to its items' last steps (``gathered``);
3. by content hash: equal to a step's whole inline output (``hash``), to a field of one
   (``field``, read from the envelopes the run record keeps), to the list of an inline
   fan-out's item outputs (``gathered``), or to a parameter (``param``). When several steps
   made equal values, the one that finished last before the consumer started, in its fan-out
   item or outside any, is taken (``guess``: by the order of data flow).

Not linked (``Graph.unlinked``, each with why): a constant written in the workflow body, an
error caught by ``except ... as e``, a field of a stored output that no ``ref`` names, the list
an inline fan-out gathered from stored item outputs, and a value of another run whose lineage
record is gone.
"""

from __future__ import annotations

from .graph import build_graph
from .model import Edge, Graph, How, Node, OutputNode, ParamNode, StepNode, Unlinked, ValueNode
from .openlineage import dataset_namespace, openlineage_events, run_uuid
from .uses import Needle, Use, find_uses, parse_needle

__all__ = ["Edge", "Graph", "How", "Needle", "Node", "OutputNode", "ParamNode", "StepNode", "Unlinked", "Use",
           "ValueNode", "build_graph", "dataset_namespace", "find_uses", "openlineage_events", "parse_needle",
           "run_uuid"]
