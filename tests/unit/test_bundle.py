"""The deployed bundle carries the DSL, the protocol and the runtime only.

The files ``compiler.sources.function_sources`` lists for a workflow (what the CDK app and
the LocalStack deployer package) are copied to a folder of their own; a fresh Python with
only that folder on its path (and the third-party packages a function has in its layer)
runs a step of the workflow through the Lambda handler, as Lambda would, and then lists
what it imported. No module of the compiler's passes, the command line or the LocalStack
code may be among them, nor in the bundle at all, and every module of ours must come from
the bundle.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from compiler.deployment.sources import function_sources

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, sys, types
from lambdas.store import LocalStore
import lambdas.step_runner as step_runner

step_runner._store = LocalStore(sys.argv[1])
context = types.SimpleNamespace(function_name="stepstone-test", memory_limit_in_mb=1024, aws_request_id="r-1",
                                invoked_function_arn="arn:aws:lambda:us-east-1:000000000000:function:stepstone-test")
event = {"step": "examples.ml_training:prod_initiation", "workflow": "ml_training", "state": "prod_initiation",
         "run": "bundle-test", "execution": "arn:aws:states:us-east-1:000000000000:execution:ml_training:bundle-test",
         "attempt": 0, "inline_limit": 16384, "args": {"request": {"value": {"rows": 200}}}}
envelope = step_runner.handler(event, context)
ours = {name: getattr(module, "__file__", None) for name, module in sys.modules.items()
        if name.split(".")[0] in ("compiler", "lambdas", "stepstone", "examples")}
print(json.dumps({"envelope": envelope, "modules": ours}))
"""


def _allowed(module: str) -> bool:
    """A module a deployed step may load: the package fronts, the DSL, the protocol, the runtime, the workflow."""
    if module in ("compiler", "stepstone"):
        return True
    return module.split(".")[0] in ("lambdas", "examples") or module.startswith(("compiler.dsl", "compiler.protocol"))


def test_the_bundle_holds_the_dsl_protocol_and_runtime_only() -> None:
    names = [name for name, _ in function_sources(ROOT / "examples" / "ml_training.py")]
    ours = [n for n in names if n.split("/")[0] in ("compiler", "lambdas", "stepstone")]
    refused = [n for n in ours if not _allowed(n.removesuffix(".py").removesuffix("/__init__").replace("/", "."))]
    assert not refused, f"the bundle carries more than the DSL, the protocol and the runtime: {refused}"
    assert "lambdas/step_runner.py" in names and "compiler/dsl/steps.py" in names and "stepstone/__init__.py" in names
    assert "examples/ml_training.py" in names, "the workflow's own package goes along"


def test_a_step_runs_from_the_bundle_without_the_compiler_cli_or_localstack(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    for name, path in function_sources(ROOT / "examples" / "ml_training.py"):
        (bundle / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, bundle / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "STEPSTONE_"))}
    env.update(PYTHONPATH=str(bundle), POWERTOOLS_TRACE_DISABLED="true", AWS_DEFAULT_REGION="us-east-1",
               PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "artifacts")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["envelope"]["fields"]["rows"] == 200, "the step ran and returned its output"
    modules: dict[str, str | None] = report["modules"]
    loaded = sorted(modules)
    assert "examples.ml_training" in loaded and "lambdas.runner" in loaded
    refused = [m for m in loaded if not _allowed(m)]
    assert not refused, f"a deployed step loaded modules it must not need: {refused}"
    outside = {m: f for m, f in modules.items() if f and not Path(f).resolve().is_relative_to(bundle.resolve())}
    assert not outside, f"modules of ours came from outside the bundle: {outside}"
