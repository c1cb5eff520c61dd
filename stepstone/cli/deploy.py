"""``stepstone deploy``: the CDK app (cdk/) deployed with the pinned CDK CLI, to AWS or, with
``--localstack``, to LocalStack through cdklocal (bootstrapped there the first time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from ..console import EXIT_FAILED, EXIT_OK, err, fail, out
from . import main

__all__ = ["deploy"]


def _project() -> Path:
    """The folder with cdk.json: here or above."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "cdk.json").is_file():
            return folder
    fail("no cdk.json here or above", hint="run stepstone deploy from the project (where cdk.json is)")


def _localstack_env(host: str) -> dict[str, str]:
    endpoint = f"http://{host}"
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ENDPOINT_URL_S3": endpoint, "LOCALSTACK_HOSTNAME": host.split(":")[0],
            "EDGE_PORT": host.split(":")[1] if ":" in host else "4566", "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}


def _bootstrapped(host: str) -> bool:
    from ..localstack import clients

    cloudformation = clients(host).client("cloudformation")
    try:
        cloudformation.describe_stacks(StackName="CDKToolkit")
    except cloudformation.exceptions.ClientError:
        return False
    return True


@main.command()
@click.option("--localstack", "to_localstack", is_flag=True,
              help="Deploy to LocalStack (cdklocal; `stepstone localstack up` first): Batch steps run as Lambda "
                   "there.")
@click.option("-w", "--workflows", "patterns", multiple=True, metavar="GLOB",
              help="Workflow files to deploy (repeat for several); default: cdk.json's stepstone:workflows.")
@click.option("--alarm-email", metavar="ADDRESS", help="Subscribe this address to failed-run alarms.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before IAM or security changes (CI).")
@click.argument("cdk_args", nargs=-1, type=click.UNPROCESSED)
def deploy(to_localstack: bool, patterns: tuple[str, ...], alarm_email: str | None, yes: bool,
           cdk_args: tuple[str, ...]) -> None:
    """Deploy every workflow of the app with the AWS CDK (`cdk deploy --all`).

    One stack per workflow file plus a shared stack (artifact bucket, alarm topic, GPU
    queue). The outputs name each state machine and its Step Functions console link.
    Arguments after -- go to cdk. Exit code 0 when it deployed, 1 when cdk failed.

    \b
    Examples:
      stepstone deploy                       to the AWS account of your credentials
      stepstone deploy --localstack          to LocalStack
      stepstone deploy -w examples/etl_s3.py -- --hotswap
      npx cdk diff / npx cdk destroy --all   the CDK CLI works as usual
    """
    root = _project()
    tool = "cdklocal" if to_localstack else "cdk"
    cli = root / "node_modules" / ".bin" / tool
    if not cli.exists():
        fail(f"the pinned CDK CLI ({tool}) is not installed in {root / 'node_modules'}",
             hint="run `npm ci` there (make test does it)")
    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "true"}
    context: list[str] = []
    if patterns:
        context += ["-c", "stepstone:workflows=" + ",".join(patterns)]
    if alarm_email:
        context += ["-c", f"stepstone:alarm-email={alarm_email}"]
    if to_localstack:
        from ..localstack import LocalStack

        harness = LocalStack()
        if harness.health() is None:
            fail(f"LocalStack is not running on {harness.host}", hint="start it with `stepstone localstack up`")
        env.update(_localstack_env(harness.host))
        context += ["-c", "stepstone:localstack=true"]
        if not _bootstrapped(harness.host):
            err.print("[dim]bootstrapping the CDK on LocalStack (once)[/dim]")
            done = subprocess.run([str(cli), "bootstrap", "--no-notices", *context], cwd=root, env=env)
            if done.returncode != 0:
                sys.exit(EXIT_FAILED)
    approval = ["--require-approval", "never"] if yes or to_localstack else []
    command = [str(cli), "deploy", "--all", "--no-notices", *approval, *context, *cdk_args]
    done = subprocess.run(command, cwd=root, env=env)
    if done.returncode != 0:
        sys.exit(EXIT_FAILED)
    where = "--target localstack" if to_localstack else "(on AWS: the console links above)"
    out.print(f"[green]deployed[/green]; runs: stepstone runs {where}")
    sys.exit(EXIT_OK)
