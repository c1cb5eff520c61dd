"""``cdk synth`` of the whole app, as a user runs it (the pinned CLI from package-lock.json),
and ``cfn-lint`` on every template it writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CDK = ROOT / "node_modules" / ".bin" / "cdk"
LINT = ROOT / ".venv" / "bin" / "cfn-lint"

# cfn-lint 1.58.0's state machine schema lacks Parameters on a Parallel state, which the ASL
# allows (https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html); nothing else is let through
KNOWN_FALSE_FINDINGS = (("E3601", "('Parameters' was unexpected)"),)


def synth(outdir: Path, *context: str) -> subprocess.CompletedProcess[str]:
    if not CDK.exists():
        pytest.fail("node_modules has no cdk: run scripts/bootstrap.sh (npm ci)")
    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "true"}
    arguments = [a for c in context for a in ("-c", c)]
    return subprocess.run([str(CDK), "synth", "--no-notices", "-q", "-o", str(outdir), *arguments], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def lint(outdir: Path) -> list[dict[str, Any]]:
    templates = sorted(str(p) for p in outdir.glob("*.template.json"))
    done = subprocess.run([str(LINT), "-i", "W3005", "-f", "json", "--", *templates], capture_output=True, text=True)
    findings: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    return [f for f in findings if not any(f["Rule"]["Id"] == rule and text in f["Message"]
                                           for rule, text in KNOWN_FALSE_FINDINGS)]


@pytest.mark.parametrize("target", ["aws", "localstack"])
def test_cdk_synth_of_the_app_passes_cdk_nag_and_cfn_lint(target: str, tmp_path: Path) -> None:
    context = ["stepstone:localstack=true"] if target == "localstack" else []
    done = synth(tmp_path, *context)
    assert done.returncode == 0, done.stderr[-3000:]
    stacks = sorted(p.name.removesuffix(".template.json") for p in tmp_path.glob("*.template.json"))
    assert stacks == ["stepstone-examples-approval-release", "stepstone-examples-etl-s3",
                      "stepstone-examples-hpo-fanout", "stepstone-examples-ml-training",
                      "stepstone-examples-model-family", "stepstone-examples-publish-metrics", "stepstone-shared"]
    assert lint(tmp_path) == []
    docker_images = json.loads((tmp_path / "stepstone-examples-ml-training.assets.json").read_text()).get(
        "dockerImages", {})
    assert bool(docker_images) == (target == "aws"), "the GPU runner image: on AWS only, built by cdk deploy"


def test_a_workflow_that_does_not_compile_stops_synth_with_its_location(tmp_path: Path) -> None:
    bad = tmp_path / "flows"
    bad.mkdir()
    (bad / "broken.py").write_text("from stepstone import step, workflow\n\n@step\ndef s(x: int) -> int:\n"
                                   "    return x\n\n@workflow\ndef w(x: int = 1) -> int:\n    while x:\n"
                                   "        x = s(x)\n    return x\n")
    relative = os.path.relpath(bad / "broken.py", ROOT)
    done = synth(tmp_path / "out", f"stepstone:workflows={relative}")
    assert done.returncode != 0
    assert "broken.py:9" in done.stderr and "while" in done.stderr
    assert "Traceback" not in done.stderr
    shutil.rmtree(bad)
