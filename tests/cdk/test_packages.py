"""What synth makes of a workflow file's packages: a function whose code and packages fit
Lambda's 250 MiB unzipped is a zip with a layer (python3.12, Amazon Linux 2023 wheels);
one that does not (scikit-learn, pandas, numpy, pyarrow) is a container image built from a
Dockerfile on AWS's Lambda base image that installs the file's lock, exact and hash-checked;
on LocalStack the same packages come from their folder; a file that forbids images stops
synth with the sizes and the ways out."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from cdk.app import _quiet_node_warning

_quiet_node_warning()

from aws_cdk import App  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from cdk.app import build  # noqa: E402
from cdk.errors import PackagesTooLargeError  # noqa: E402
from cdk.nag import check  # noqa: E402
from compiler.deployment.lock import read_lock  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FILES = ["tests/e2e/cdk_ml_flows.py", "tests/e2e/cdk_undeclared.py"]


def templates(context: dict[str, Any]) -> dict[str, Template]:
    app = App(context={"stepstone:workflows": FILES, **context})
    stacks = build(app, ROOT)
    check(app)
    app.synth()
    return {stack.stack_name: Template.from_stack(stack) for stack in stacks}


def functions(template: Template) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = template.find_resources("AWS::Lambda::Function")
    return {name: r["Properties"] for name, r in found.items() if name.startswith("StepFunctionsRunner")}


@pytest.fixture(scope="module")
def aws() -> dict[str, Template]:
    return templates({})


def test_too_large_for_a_zip_is_a_container_image_installing_the_lock(aws: dict[str, Template],
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    (image,) = functions(aws["stepstone-tests-e2e-cdk-ml-flows"]).values()
    assert image["PackageType"] == "Image" and "Runtime" not in image and "Layers" not in image
    contexts = sorted((ROOT / ".stepstone/cdk").glob("lambda-image-*/Dockerfile"), key=lambda p: p.stat().st_mtime)
    dockerfile = contexts[-1].read_text()
    assert dockerfile.splitlines()[3] == "FROM public.ecr.aws/lambda/python:3.12"
    assert "--require-hashes --no-deps --only-binary=:all:" in dockerfile
    installed = (contexts[-1].parent / "requirements.txt").read_text()
    lock = read_lock(ROOT / "tests/e2e/cdk_ml_flows.py")
    assert lock is not None
    for name in ("scikit-learn", "pandas", "numpy", "pyarrow", "pydantic"):
        version = lock.pins[name]
        assert re.search(rf"^{name}=={re.escape(version)} \\$", installed, re.M), f"{name} {version} from the lock"
    assert "--hash=sha256:" in installed


def test_what_fits_is_a_zip_on_python_3_12_with_its_layer(aws: dict[str, Template]) -> None:
    (zipped,) = functions(aws["stepstone-tests-e2e-cdk-undeclared"]).values()
    assert zipped["Runtime"] == "python3.12" and len(zipped["Layers"]) == 1
    assert zipped.get("PackageType", "Zip") == "Zip"


def test_on_localstack_the_image_packages_come_from_their_folder() -> None:
    stacks = templates({"stepstone:localstack": "true"})
    template = stacks["stepstone-tests-e2e-cdk-ml-flows"]
    (function,) = functions(template).values()
    assert function["Runtime"] == "python3.12" and function["Environment"]["Variables"][
        "STEPSTONE_LAMBDA_ISOLATED"] == "1", "run as on AWS: its runtime's Python, its own packages only"
    (layer,) = template.find_resources("AWS::Lambda::LayerVersion").values()
    content = layer["Properties"]["Content"]
    assert content["S3Bucket"] == "hot-reload" and "/packages-" in content["S3Key"]


def test_a_file_that_forbids_images_stops_synth_with_the_ways_out(tmp_path: Path) -> None:
    file = tmp_path / "no_images.py"
    file.write_text(textwrap.dedent('''\
        import stepstone
        from stepstone import step, workflow

        stepstone.packages("scikit-learn", "pandas", "numpy", "pyarrow", images=False)


        @step
        def one(n: int) -> int:
            return n


        @workflow
        def no_images(n: int = 1) -> int:
            return one(n)
        '''))
    app = App(context={"stepstone:workflows": [str(file)]})
    with pytest.raises(PackagesTooLargeError) as error:
        build(app, ROOT)
    message = str(error.value)
    assert "no_images.py: function 1024mb300s (one) needs" in message and "at most 250 MiB" in message
    assert "scipy" in message and "allow a container image" in message and "compute=Batch" in message
    assert "declare fewer packages" in message
