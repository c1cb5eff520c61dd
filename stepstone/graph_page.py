"""A workflow (and one of its runs) as a single HTML page that works offline.

The graph is drawn by Mermaid in the browser; the Mermaid library (``mermaid`` in
package.json, installed by ``npm ci``) is inlined, so the page loads nothing from the
network and can be mailed, archived or opened from a CI artifact. With a run, each state is
coloured by how it went, with a legend, the run's summary and its per-step table.

Everything a user wrote (names, labels, parameters, outputs, errors) is HTML-escaped; the
Mermaid source is escaped for Mermaid first (compiler/graph/mermaid.py) and then for HTML.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.graph.build import Graph
from compiler.graph.mermaid import to_mermaid
from compiler.graph.status import COLOURS, LEGEND, STATUS_CLASSES, status_classes, step_statuses
from compiler.ir import Approve, Block, CallWorkflow, FanOut, If, StepCall, Try

from . import __version__
from .errors import MermaidMissingError
from .graph_view import MARKS
from .view import duration_text, kept, size_text

if TYPE_CHECKING:
    from .records import RunRecord

__all__ = ["graph_page", "mermaid_script", "project_root"]



def project_root() -> Path:
    """The repository (or source tree) stepstone runs from: where package.json is."""
    return Path(__file__).resolve().parent.parent


def mermaid_script(root: Path | None = None) -> tuple[str, str]:
    """The Mermaid library's code and version, from ``node_modules/mermaid``."""
    folder = (root or project_root()) / "node_modules" / "mermaid"
    try:
        code = (folder / "dist" / "mermaid.min.js").read_text(encoding="utf-8")
    except OSError:
        raise MermaidMissingError(str(root or project_root())) from None
    try:
        version = str(json.loads((folder / "package.json").read_text(encoding="utf-8")).get("version", "?"))
    except (OSError, ValueError):
        version = "?"
    return code, version


# --- formatting --------------------------------------------------------------------------------


def _when(stamp: str | None) -> str:
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if moment.utcoffset() is not None and
                                                   not moment.utcoffset() else "")


def _json(value: Any, limit: int = 600) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _chip(status: str, text: str | None = None) -> str:
    css = STATUS_CLASSES.get(status, "failed" if status == "interrupted" else "notrun")
    mark = MARKS.get(status, "")
    return f'<span class="chip {css}">{escape(mark)} {escape(text or status)}</span>'


def _count_steps(block: Block) -> int:
    count = 0
    for unit in block.units:
        node = unit.node
        if isinstance(node, StepCall | CallWorkflow | Approve):
            count += 1
        elif isinstance(node, If):
            count += sum(_count_steps(b.body) for b in node.branches) + (_count_steps(node.orelse) if node.orelse
                                                                          else 0)
        elif isinstance(node, FanOut):
            count += _count_steps(node.body)
        elif isinstance(node, Try):
            count += _count_steps(node.body) + sum(_count_steps(h.body) for h in node.handlers)
    return count


# --- the page --------------------------------------------------------------------------------------


def graph_page(graph: Graph, *, record: RunRecord | None = None, source: str | None = None,
               root: Path | None = None) -> str:
    """The page: ``graph`` drawn by Mermaid; with ``record``, coloured by that run, with a
    legend, the run's summary and its steps. Raises :class:`MermaidMissing` without Mermaid."""
    code, version = mermaid_script(root)
    classes = None
    if record is not None:
        classes = status_classes(graph, step_statuses((s.state, s.status) for s in record.steps.values()),
                                 run_status=record.status, failed_state=record.failed_state)
    diagram = to_mermaid(graph, classes=classes)
    title = graph.title + (f" · run {record.run_id}" if record is not None else "")
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="stepstone {escape(__version__)}">',
        f"<title>{escape(title)} · stepstone</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        '<main>',
        _header(graph, source, record),
    ]
    if record is not None:
        parts.append(_run_summary(record))
        parts.append(_legend())
    parts.append('<figure class="diagram">')
    parts.append(f'<pre class="mermaid" id="diagram">{escape(diagram)}</pre>')
    parts.append('<p class="render-error" id="render-error" hidden></p>')
    parts.append("</figure>")
    if record is not None:
        parts.append(_steps_table(record))
    parts.append(f'<footer>drawn by <code>stepstone graph --html</code> {escape(__version__)} with Mermaid '
                 f"{escape(version)} (inlined: this page loads nothing from the network)</footer>")
    parts.append("</main>")
    script = code.replace("</script", "<\\/script")  # the library cannot end its own element
    parts.append(f"<script>{script}</script>")
    parts.append(f"<script>{_START}</script>")
    parts.append("</body>")
    parts.append("</html>")
    return "\n".join(parts) + "\n"


def _header(graph: Graph, source: str | None, record: RunRecord | None) -> str:
    facts = []
    workflow = graph.workflow
    if source:
        facts.append(f"<code>{escape(source)}</code>")
    if workflow is not None:
        steps = _count_steps(workflow.body)
        facts.append(f"{escape(workflow.type)} workflow")
        facts.append(f"{steps} step{'' if steps == 1 else 's'}")
        if workflow.schedules:
            facts.append(f"{len(workflow.schedules)} schedule{'' if len(workflow.schedules) == 1 else 's'}")
        if workflow.triggers:
            facts.append(f"{len(workflow.triggers)} trigger{'' if len(workflow.triggers) == 1 else 's'}")
    kicker = "a run of the workflow" if record is not None else "workflow"
    return (f'<header><p class="kicker">stepstone · {kicker}</p><h1>{escape(graph.title)}</h1>'
            f'<p class="facts">{" · ".join(facts)}</p></header>')


def _run_summary(record: RunRecord) -> str:
    head = [_chip(record.status), f"run <code>{escape(record.run_id)}</code>", escape(record.where)]
    if record.started:
        head.append(f"started {escape(_when(record.started))}")
    if record.duration_ms is not None:
        head.append(f"took {escape(duration_text(record.duration_ms))}")
    if record.resumed:
        head.append(f"resumed {record.resumed}×")
    counts = Counter(step.status for step in record.steps.values())
    tally = " ".join(_chip(status, f"{count} {status}") for status, count in sorted(
        counts.items(), key=lambda item: list(MARKS).index(item[0]) if item[0] in MARKS else 99))
    rows = [f'<p class="run-head">{" · ".join(head)}</p>']
    rows.append("<dl>")
    rows.append(f"<dt>steps</dt><dd>{len(record.steps)} record{'' if len(record.steps) == 1 else 's'} "
                f"{tally}</dd>")
    rows.append(f"<dt>parameters</dt><dd><code>{escape(_json(record.params))}</code></dd>")
    if record.error:
        failed = f"<code>{escape(record.failed_state)}</code>: " if record.failed_state else ""
        rows.append(f'<dt>error</dt><dd class="error">{failed}<strong>{escape(record.error)}</strong>'
                    f"{': ' + escape((record.cause or '')[:600]) if record.cause else ''}</dd>")
    elif record.output is not None:
        value = record.output.get("value") if isinstance(record.output, dict) and "value" in record.output \
            else record.output
        rows.append(f"<dt>output</dt><dd><code>{escape(_json(value))}</code></dd>")
    if record.parent:
        rows.append(f"<dt>started by</dt><dd>run <code>{escape(record.parent)}</code></dd>")
    rows.append("</dl>")
    return f'<section class="run">{"".join(rows)}</section>'


def _legend() -> str:
    items = []
    for css, caption in LEGEND:
        fill, stroke, _ = COLOURS[css]
        dashed = " dashed" if css == "notrun" else ""
        items.append(f'<li><span class="swatch{dashed}" style="background:{fill};border-color:{stroke}"></span>'
                     f"{escape(caption)}</li>")
    note = ("conditions, returns and raises are coloured by what the run shows of them; a fan-out's step "
            "by all its items")
    return f'<section class="legend"><ul>{"".join(items)}</ul><p>{escape(note)}</p></section>'


def _steps_table(record: RunRecord) -> str:
    rows = []
    for step in record.steps.values():
        where = kept(step, record)
        error = ""
        if step.error:
            cause = (step.cause or "")[:300]
            error = f"<strong>{escape(step.error)}</strong>{': ' + escape(cause) if cause else ''}"
        rows.append(
            "<tr>"
            f'<td class="name"><code>{escape(step.key)}</code></td>'
            f"<td>{_chip(step.status)}</td>"
            f'<td class="num">{step.attempts or ""}</td>'
            f'<td class="num">{escape(duration_text(step.duration_ms))}</td>'
            f'<td class="num">{escape(size_text(step.output_bytes))}</td>'
            f"<td>{escape(where)}</td>"
            f'<td class="error">{error}</td>'
            "</tr>")
    if not rows:
        rows.append('<tr><td colspan="7" class="empty">no step has started</td></tr>')
    numeric = ' class="num"'
    head = "".join(f"<th{numeric if name in ('tries', 'time', 'output') else ''}>{name}</th>"
                   for name in ("step", "status", "tries", "time", "output", "kept", "error"))
    return (f'<section class="steps"><h2>Steps</h2><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></section>')


_START = """
mermaid.initialize({
  startOnLoad: false,
  securityLevel: "strict",
  theme: "base",
  themeVariables: {
    fontFamily: "ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
    fontSize: "15px",
    primaryColor: "#eef2ff",
    primaryBorderColor: "#5c6bc0",
    primaryTextColor: "#1f2330",
    lineColor: "#6b7280",
    clusterBkg: "#f8f9fb",
    clusterBorder: "#c3c8d4",
    edgeLabelBackground: "#ffffff"
  },
  flowchart: { curve: "basis", padding: 12, nodeSpacing: 36, rankSpacing: 44, useMaxWidth: true }
});
mermaid.run({ querySelector: "#diagram" })
  .then(function () { document.body.dataset.rendered = "yes"; })
  .catch(function (error) {
    var box = document.getElementById("render-error");
    box.textContent = "Mermaid could not draw the graph: " + error;
    box.hidden = false;
    document.body.dataset.rendered = "error";
  });
"""

_CSS = """
:root { color-scheme: light; --ink: #1f2330; --muted: #5f6675; --line: #e3e6ec; --card: #ffffff; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f8; color: var(--ink);
  font: 15px/1.5 ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 40px; }
header h1 { margin: 0 0 2px; font-size: 30px; letter-spacing: -0.01em; }
.kicker { margin: 0; color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: 0.06em; }
.facts { margin: 0 0 18px; color: var(--muted); }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eef0f4;
  padding: 1px 5px; border-radius: 4px; word-break: break-word; }
section, figure { background: var(--card); border: 1px solid var(--line); border-radius: 10px; margin: 0 0 16px; }
.run { padding: 14px 18px; }
.run-head { margin: 0 0 8px; font-size: 16px; }
.run dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
.run dt { color: var(--muted); }
.run dd { margin: 0; }
.run dd .chip { margin-left: 4px; }
.chip { display: inline-block; padding: 0 8px; border-radius: 999px; border: 1px solid; font-size: 13px;
  font-weight: 600; white-space: nowrap; }
""" + "".join(
    f".chip.{name} {{ background: {fill}; border-color: {stroke}; color: {text}; }}\n"
    for name, (fill, stroke, text) in COLOURS.items()) + """
.chip.notrun { border-style: dashed; font-weight: 500; }
.error { color: #842029; }
.legend { padding: 10px 18px; }
.legend ul { display: flex; flex-wrap: wrap; gap: 8px 22px; list-style: none; margin: 0; padding: 0; }
.legend li { display: flex; align-items: center; gap: 8px; }
.legend p { margin: 6px 0 0; color: var(--muted); font-size: 13px; }
.swatch { display: inline-block; width: 22px; height: 16px; border: 2px solid; border-radius: 4px; }
.swatch.dashed { border-style: dashed; }
.diagram { padding: 18px; text-align: center; overflow-x: auto; }
.diagram pre.mermaid { margin: 0; background: none; }
.render-error { color: #842029; text-align: left; }
.steps { padding: 14px 18px; }
.steps h2 { margin: 0 0 8px; font-size: 18px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th { text-align: left; color: var(--muted); font-weight: 600; border-bottom: 2px solid var(--line);
  padding: 6px 10px; }
td { border-bottom: 1px solid var(--line); padding: 6px 10px; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.error { font-size: 13px; max-width: 420px; }
td.empty { color: var(--muted); text-align: center; }
footer { color: var(--muted); font-size: 12px; text-align: center; margin-top: 20px; }
"""
