"""The HTML page of a run, rendered by a real browser (headless Chromium) with no network.

A local run of examples/etl_s3.py where parsing fails and the file is quarantined; its page
(`stepstone graph --html --run`) is opened in Chromium with every host unresolvable, so
Mermaid can only come from the page itself. The rendered DOM must hold the SVG with each
node's status class and colour, and a screenshot must show the succeeded green and the
failed red as node-sized areas (not just the small chips of the summary and the legend).

Chromium is /usr/bin/chromium (scripts/test.sh installs it); without it these tests are
skipped, unless STEPSTONE_REQUIRE_LOCALSTACK=1 (CI) makes that a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.graph import build_graph, status_classes
from compiler.graph.status import COLOURS
from compiler.loader import load_workflows
from compiler.parse import parse_workflow
from stepstone.cli import main
from stepstone.local import find_run
from stepstone.records import RunRecord

ROOT = Path(__file__).resolve().parents[2]
ETL = str(ROOT / "examples" / "etl_s3.py")
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND",  # no network: the page must not need it
         "--virtual-time-budget=10000"]  # time for Mermaid's script to draw


@dataclass
class Page:
    path: Path
    record: RunRecord


def _chromium() -> str:
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if found is None:
        reason = f"Chromium is not installed ({CHROMIUM}); scripts/test.sh installs it (apt-get install chromium)"
        if os.environ.get("STEPSTONE_REQUIRE_LOCALSTACK") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def _browse(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="stepstone-chromium-") as profile:
        result = subprocess.run([_chromium(), *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                                text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    _chromium()
    if not (ROOT / "node_modules" / "mermaid" / "dist" / "mermaid.min.js").exists():
        pytest.fail("Mermaid is not installed: run scripts/bootstrap.sh (npm ci)")
    folder = tmp_path_factory.mktemp("graph-page")
    home = folder / "home"
    runner = CliRunner()
    result = runner.invoke(main, ["run", ETL, "-p", "key=sales/broken.csv", "--home", str(home)])
    assert result.exit_code == 0, result.output
    run_id = result.output.split(" as run ", 1)[1].split()[0]
    path = folder / "page.html"
    result = runner.invoke(main, ["graph", ETL, "--html", "--run", run_id, "--home", str(home), "-o", str(path)])
    assert result.exit_code == 0, result.output
    from lambdas.store import LocalStore

    record = find_run(LocalStore(home), run_id)
    assert record is not None
    yield Page(path, record)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_the_browser_draws_the_graph_with_each_state_coloured(page: Page) -> None:
    dom = _browse("--dump-dom", page.path.as_uri()).stdout
    assert '<body data-rendered="yes">' in dom, "Mermaid did not finish drawing"
    svg = dom.split('<pre class="mermaid" id="diagram"', 1)[1].split("</pre>", 1)[0]
    assert "<svg" in svg and 'aria-roledescription="flowchart-v2"' in svg
    drawn = {node: set(classes.split()) for classes, node in
             re.findall(r'<g class="(node [^"]*)" id="[^"]*-flowchart-(n\d+)-\d+"', svg)}
    graph = build_graph(parse_workflow(load_workflows(ETL)[0]))
    record = page.record
    expected = status_classes(graph, [(s.state, s.status) for s in record.steps.values()],
                              run_status=record.status, failed_state=record.failed_state)
    assert set(drawn) == set(graph.nodes)
    for node, css in expected.items():
        assert css in drawn[node], (graph.nodes[node].label, css, drawn[node])
    by_label = {graph.nodes[node].label: css for node, css in expected.items()}
    assert by_label["parse_csv"] == "failed" and by_label["quarantine"] == "succeeded"
    assert by_label["load_to_warehouse"] == "notrun"
    # the classes' fills are in the SVG's style sheet
    for css in ("succeeded", "failed", "notrun"):
        red, green, blue = _rgb(COLOURS[css][0])
        assert re.search(rf"\.{css}(&gt;|>)\*\{{fill:rgb\({red}, {green}, {blue}\)", svg), css


def test_a_screenshot_shows_the_succeeded_green_and_the_failed_red(page: Page) -> None:
    from PIL import Image

    shot = page.path.with_suffix(".png")
    _browse(f"--screenshot={shot}", "--window-size=1200,1600", page.path.as_uri())
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 1600)
    width, height = image.size
    pixels = image.load()
    assert pixels is not None

    def tallest_run(colour: str) -> int:
        """The most pixels of exactly this colour one above the other: a node is ~40 px tall, a chip ~20."""
        want = _rgb(colour)
        best = 0
        for x in range(0, width, 2):
            run = 0
            for y in range(height):
                run = run + 1 if pixels[x, y] == want else 0
                best = max(best, run)
        return best

    for css in ("succeeded", "failed", "notrun"):
        assert tallest_run(COLOURS[css][0]) >= 30, f"no {css} node in the screenshot {shot}"
    assert tallest_run(COLOURS["cached"][0]) < 30  # nothing was cached: only the legend's swatch
