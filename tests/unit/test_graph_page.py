"""`stepstone graph --html`: a page that opens offline, coloured by a real local run."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from stepstone.cli import main

ROOT = Path(__file__).resolve().parents[2]
ETL = str(ROOT / "examples" / "etl_s3.py")
MERMAID = ROOT / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"


def stepstone(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def make_run(home: Path, *params: str) -> str:
    """A local run of examples/etl_s3.py; its id."""
    args = [item for param in params for item in ("-p", param)]
    code, output = stepstone("run", ETL, "--home", str(home), *args)
    assert code in (0, 1), output
    return output.split(" as run ", 1)[1].split()[0]


@pytest.fixture()
def mermaid_installed() -> None:
    if not MERMAID.exists():
        pytest.fail("Mermaid is not installed: run scripts/bootstrap.sh (npm ci)")


class _Links(HTMLParser):
    """Every URL the page would load or link to (a script's code is not markup, so it is not read)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self.urls += [value or "" for name, value in attrs if name in ("src", "href", "srcset", "data", "action")]


def test_the_page_of_a_run_is_self_contained_and_holds_its_statuses(tmp_path: Path, mermaid_installed: None) -> None:
    home = tmp_path / "home"
    run_id = make_run(home, "key=sales/broken.csv")  # parse_csv fails, the file is quarantined
    page = tmp_path / "page.html"
    code, output = stepstone("graph", ETL, "--html", "--run", run_id, "--home", str(home), "-o", str(page))
    assert code == 0, output
    assert f"wrote {page}" in output
    html = page.read_text(encoding="utf-8")
    links = _Links()
    links.feed(html)
    assert links.scripts == 2  # Mermaid, and the call that draws the graph
    assert not [url for url in links.urls if re.match(r"\s*(https?:)?//", url)], links.urls
    assert MERMAID.read_text(encoding="utf-8")[:2000] in html  # the library itself, inlined
    assert "mermaid.run(" in html
    # the run: its summary, its colours, its steps
    assert f"<title>etl_s3 · run {run_id} · stepstone</title>" in html
    assert run_id in html and "local target" in html
    for css in ("succeeded", "failed", "notrun"):
        assert re.search(rf"^  classDef {css} fill:", html, re.MULTILINE), css
    diagram = html.split('<pre class="mermaid" id="diagram">', 1)[1].split("</pre>", 1)[0]
    assert re.search(r"^  class n\d+ failed$", diagram, re.MULTILINE)  # parse_csv
    assert len(re.findall(r"^  class n\d+ succeeded$", diagram, re.MULTILINE)) == 4  # start, download, quarantine,
    # return 'quarantined'
    rows = re.findall(r'<tr><td class="name"><code>(\w+)</code></td><td><span class="chip (\w+)">', html)
    assert rows == [("download", "succeeded"), ("parse_csv", "failed"), ("quarantine", "succeeded")]
    assert "MalformedFileError" in html
    for caption in ("succeeded", "cached / reused", "running / retrying", "failed", "not run"):
        assert f"</span>{caption}</li>" in html  # the legend


def test_what_users_wrote_is_escaped(tmp_path: Path, mermaid_installed: None) -> None:
    home = tmp_path / "home"
    run_id = make_run(home, "key=<img src=x onerror=alert(1)>.csv")  # no such file: download fails
    page = tmp_path / "page.html"
    code, output = stepstone("graph", ETL, "--html", "--run", run_id, "--home", str(home), "-o", str(page))
    assert code == 0, output
    html = page.read_text(encoding="utf-8")
    assert "<img" not in html.replace(MERMAID.read_text(encoding="utf-8"), "")
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in html  # in the parameters and the error
    # Mermaid's own escapes survive the HTML escaping: `>` in a condition is #gt; then HTML-escaped
    assert "summary.rejected_rows #gt; 0?" in html


def test_the_page_of_a_workflow_and_the_default_file_name(tmp_path: Path, mermaid_installed: None,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = stepstone("graph", ETL, "--html")
    assert code == 0, output
    assert "wrote etl_s3.html" in output
    html = (tmp_path / "etl_s3.html").read_text(encoding="utf-8")
    assert "classDef notrun" not in html and "Steps</h2>" not in html  # no run: no colours, no table
    assert "express workflow" in html and "6 steps" in html
    run_id = make_run(tmp_path / "home")
    code, output = stepstone("graph", ETL, "--html", "--run", run_id[:15], "--home", str(tmp_path / "home"))
    assert code == 0, output
    assert (tmp_path / f"etl_s3-{run_id}.html").exists()


def test_the_mermaid_text_can_be_coloured_by_a_run_too(tmp_path: Path) -> None:
    run_id = make_run(tmp_path, "key=sales/broken.csv")
    code, output = stepstone("graph", ETL, "--run", run_id, "--home", str(tmp_path))
    assert code == 0
    assert output.startswith("flowchart TD\n") and "  classDef failed " in output
    code, output = stepstone("graph", ETL, "--format", "dot", "--run", run_id, "--home", str(tmp_path))
    assert code == 2 and "leave out --format dot" in output


def test_runs_that_are_not_there_or_of_another_workflow(tmp_path: Path) -> None:
    code, output = stepstone("graph", ETL, "--html", "--run", "20990101-000000-0000", "--home", str(tmp_path))
    assert code == 2 and "no run '20990101-000000-0000'" in output
    run_id = make_run(tmp_path)
    code, output = stepstone("graph", str(ROOT / "examples" / "hpo_fanout.py"), "--html", "--run", run_id,
                             "--home", str(tmp_path))
    assert code == 2
    assert f"run {run_id} is of workflow 'etl_s3', not 'hpo_fanout'" in output
    code, output = stepstone("graph", ETL, "--home", str(tmp_path))
    assert code == 2 and "--run RUN_ID" in output
    code, output = stepstone("graph", ETL, "--run", run_id, "--home", str(tmp_path), "--target", "localstack")
    assert code == 2 and "--home is for the local target" in output


def test_without_mermaid_the_page_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import stepstone.graph_page

    monkeypatch.setattr(stepstone.graph_page, "project_root", lambda: tmp_path)
    result = CliRunner().invoke(main, ["graph", ETL, "--html", "-o", str(tmp_path / "page.html")])
    assert result.exit_code == 2
    assert result.output == f"error: the HTML page needs Mermaid: run `npm ci` in {tmp_path}\n"
    assert not (tmp_path / "page.html").exists()


def test_the_help_has_examples() -> None:
    code, output = stepstone("graph", "--help")
    assert code == 0
    assert "stepstone graph examples/etl_s3.py --html --run" in output
    for option in ("--html", "--run", "--target", "--home", "--output"):
        assert option in output
