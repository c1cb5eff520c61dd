"""Secrets: declared with ``Secret(...)`` and ``@step(secrets=[...])``, read by the running step
(here from ``STEPSTONE_SECRET_<NAME>``; deployed from Secrets Manager and Parameter Store, see
tests/integration/test_secrets_moto.py), and never a parameter or a literal of a workflow."""

from __future__ import annotations

import hashlib
import hmac
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compiler import CompileError, ParamsError, compile_workflow
from compiler.deployment.plan import plan_deployment
from compiler.dsl.credentials import credential_in, credential_name, split_words
from compiler.loader import load_workflows
from compiler.protocol import StepPayload
from examples.publish_metrics import METRICS_TOKEN, SIGNING_KEY, publish_metrics
from lambdas.errors import StepFailedError
from lambdas.runner import run_step
from lambdas.store import LocalStore
from stepstone import PermanentError, Secret, SecretNotSetError, UndeclaredSecretError, step
from stepstone.cli import main
from stepstone.local import LocalRun

ROOT = Path(__file__).resolve().parents[2]
WAREHOUSE = Secret("prod/warehouse-password")
API_TOKEN = Secret("/ml/api-token", store="ssm")
EXAMPLE_ENV = {METRICS_TOKEN.env_var: "tok-3f9a1c77e2b04d58a6", SIGNING_KEY.env_var: "sig-8d2e5b01f4a94c3e97"}


@step(secrets=[WAREHOUSE])
def connect(table: str) -> str:
    return f"{table}: {len(WAREHOUSE.value())} characters"


@step(secrets=[WAREHOUSE])
def connect_twice(table: str) -> str:
    return connect(table) + " / " + sneak(table)


@step
def sneak(table: str) -> str:
    return API_TOKEN.value()


@step(secrets=[API_TOKEN, WAREHOUSE, API_TOKEN])
def both(table: str) -> str:
    return table


# --- Secret ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "store"), [
    ("prod/warehouse-password", "secretsmanager"), ("db_creds+v2=@team.example", "secretsmanager"),
    ("/ml/api-token", "ssm"), ("api-token", "ssm"), ("/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o", "ssm"),
])
def test_a_secret_takes_the_names_its_store_allows(name: str, store: Any) -> None:
    secret = Secret(name, store=store)
    assert (secret.name, secret.store) == (name, store)


@pytest.mark.parametrize(("name", "store", "message"), [
    ("prod/warehouse password", "secretsmanager", "is 1 to 512 ASCII letters"),
    ("", "secretsmanager", "is 1 to 512 ASCII letters"),
    ("x" * 513, "secretsmanager", "is 1 to 512 ASCII letters"),
    ("ml/api-tokens", "secretsmanager", "ends in a hyphen and six characters"),
    ("ml/api-token", "ssm", "a parameter in a hierarchy starts with '/'"),
    ("/ml//token", "ssm", "no empty levels"),
    ("/ml/token:1", "ssm", "at most 1,011 of letters"),
    ("/aws/reference/secretsmanager/db", "ssm", "names starting with 'aws' or 'ssm' are AWS's own"),
    ("/SSM/token", "ssm", "names starting with 'aws' or 'ssm' are AWS's own"),
    ("/" + "/".join("l" * 16), "ssm", "has 16 levels; Parameter Store allows 15"),
])
def test_a_bad_secret_name_is_an_error_at_its_line(name: str, store: Any, message: str) -> None:
    with pytest.raises(CompileError) as raised:
        Secret(name, store=store)
    assert raised.value.rule == "bad-secret-name" and message in raised.value.message
    assert raised.value.hint
    assert raised.value.location is not None and raised.value.location.file == __file__


def test_a_secret_is_kept_in_secrets_manager_or_parameter_store() -> None:
    with pytest.raises(CompileError, match="the store is 'secretsmanager' or 'ssm'") as raised:
        Secret("prod/db", store="vault")  # type: ignore[arg-type]
    assert raised.value.rule == "bad-option"


def test_the_local_variable_is_named_after_the_secret() -> None:
    assert WAREHOUSE.env_var == "STEPSTONE_SECRET_PROD_WAREHOUSE_PASSWORD"
    assert API_TOKEN.env_var == "STEPSTONE_SECRET__ML_API_TOKEN"
    assert repr(API_TOKEN) == "Secret('/ml/api-token', store='ssm')"


def test_a_step_declares_each_secret_once_in_a_stable_order() -> None:
    assert both.options.secrets == (WAREHOUSE, API_TOKEN)  # Secrets Manager before SSM, then by name


# --- reading -----------------------------------------------------------------------------


def test_outside_aws_a_step_reads_its_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STEPSTONE_SECRETS", raising=False)
    monkeypatch.setenv(WAREHOUSE.env_var, "hunter22")
    assert connect("sales") == "sales: 8 characters"


def test_a_missing_variable_says_which_one_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STEPSTONE_SECRETS", raising=False)
    monkeypatch.delenv(WAREHOUSE.env_var, raising=False)
    with pytest.raises(SecretNotSetError) as raised:
        connect("sales")
    assert isinstance(raised.value, PermanentError), "never retried"
    assert "STEPSTONE_SECRET_PROD_WAREHOUSE_PASSWORD" in str(raised.value)
    assert "prod/warehouse-password" in str(raised.value)


def test_a_step_reads_only_the_secrets_it_declares(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(API_TOKEN.env_var, "tok")
    with pytest.raises(UndeclaredSecretError, match=r"step 'sneak' reads Secret\('/ml/api-token', store='ssm'\), "
                                                    r"which it does not declare: add it to the step's @step\(secrets"):
        sneak("sales")
    with pytest.raises(UndeclaredSecretError, match="outside a step"):
        API_TOKEN.value()


def test_in_a_run_the_running_step_s_declarations_decide(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A step that calls another step's function runs with its own function's grants."""
    monkeypatch.setenv(WAREHOUSE.env_var, "hunter22")
    monkeypatch.setenv(API_TOKEN.env_var, "tok-9d1e07")
    store = LocalStore(tmp_path)
    call = StepPayload.decode({"step": f"{__name__}:connect_twice", "workflow": "wf", "state": "connect_twice",
                               "run": "r1", "args": {"table": {"value": "sales"}}})
    with pytest.raises(StepFailedError) as failed:
        run_step(call, store)
    assert failed.value.error == "UndeclaredSecretError"
    assert "step 'connect_twice' reads Secret('/ml/api-token', store='ssm')" in failed.value.cause
    lineage = store.read("runs/wf/r1/connect_twice/attempt-0/lineage.json").decode()
    assert json.loads(lineage)["status"] == "failed"
    assert "hunter22" not in lineage and "tok-9d1e07" not in lineage, "the lineage holds no value"


# --- the compiler refuses secrets as parameters and literals -----------------------------

CREDENTIAL_NAMES = ["password", "db_password", "dbPassword", "DB_PASSWORD", "passwd", "passphrase", "secret",
                    "client_secret", "clientSecret", "token", "api_token", "hf_token", "authToken", "refresh_tokens",
                    "api_key", "apiKey", "APIKey", "apikey", "access_key", "aws_secret_access_key", "private_key",
                    "signing_key", "credential", "credentials", "creds", "slack_webhook_secret", "api_key_value",
                    "password_str"]
HARMLESS_NAMES = ["token_count", "max_tokens", "num_tokens", "tokens", "input_tokens", "pad_token", "eos_token",
                  "tokenizer", "key", "s3_key", "object_key", "partition_key", "cache_key", "primary_key",
                  "secret_name", "secret_arn", "password_min_length", "password_policy", "passwords_rotated_at",
                  "token_limit", "credential_provider", "access_key_id", "keys", "secretary", "passport"]


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
def test_names_that_say_credential(name: str) -> None:
    assert credential_name(name) is not None, split_words(name)


@pytest.mark.parametrize("name", HARMLESS_NAMES)
def test_names_that_do_not(name: str) -> None:
    assert credential_name(name) is None, split_words(name)


FAKE_GITHUB = "ghp_" + "a1B2c3D4" * 4 + "e5F6"
FAKE_SLACK = "xoxb-" + "1234567890-" + "abcdefABCDEF"
CREDENTIAL_VALUES = ["AKIAIOSFODNN7EXAMPLE", "id=ASIAIOSFODNN7EXAMPLE;", ["ok", {"k": "AKIAIOSFODNN7EXAMPLE"}],
                     "-----BEGIN RSA PRIVATE KEY-----\nMII", "-----BEGIN OPENSSH PRIVATE KEY-----",
                     "-----BEGIN PRIVATE KEY-----", FAKE_GITHUB, FAKE_SLACK, {"AKIAIOSFODNN7EXAMPLE": 1}]
HARMLESS_VALUES = ["sales/2024-06-01.csv", "AKIA-not-a-key", "AKIAIOSFODNN7EXAMPLEX", "-----BEGIN PUBLIC KEY-----",
                   "-----BEGIN CERTIFICATE-----", "ghp_short", "xoxb", 42, None, ["s3://raw-data/x"], {"token": 1}]


@pytest.mark.parametrize("value", CREDENTIAL_VALUES, ids=range(len(CREDENTIAL_VALUES)))
def test_values_that_are_credentials(value: Any) -> None:
    assert credential_in(value) is not None


@pytest.mark.parametrize("value", HARMLESS_VALUES, ids=range(len(HARMLESS_VALUES)))
def test_values_that_are_not(value: Any) -> None:
    assert credential_in(value) is None


def workflow_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / f"flow_{abs(hash(body)):x}.py"
    path.write_text("from pydantic import BaseModel\n\nfrom stepstone import cron, step, workflow\n\n\n"
                    "@step\ndef echo(value: object) -> str:\n    return str(value)\n\n\n" + textwrap.dedent(body))
    return path


def first_error(path: Path) -> CompileError | None:
    try:
        for definition in load_workflows(str(path)):
            compile_workflow(definition)
    except CompileError as exc:
        return exc
    return None


@pytest.mark.parametrize(("name", "annotation", "refused"), [
    ("warehouse_password", "str", True), ("apiKey", "str | None", True), ("credentials", "dict[str, str]", True),
    ("hf_token", "'str'", True), ("token_count", "int", False), ("max_tokens", "int", False),
    ("use_password", "bool", False), ("password_length", "int", False), ("secret_name", "str", False),
    ("password_rotated", "float", False),
])
def test_a_parameter_named_like_a_credential_is_refused(tmp_path: Path, name: str, annotation: str,
                                                        refused: bool) -> None:
    path = workflow_file(tmp_path, f"""
        @workflow
        def flow({name}: {annotation}) -> str:
            return echo({name})
        """)
    error = first_error(path)
    if not refused:
        assert error is None, error
        return
    assert error is not None and error.rule == "secret-parameter", error
    assert error.location is not None and (error.location.file, error.location.line) == (str(path), 13)
    assert "Secret(" in (error.hint or "")


def test_a_field_deep_in_the_parameters_model_is_found_at_its_line(tmp_path: Path) -> None:
    path = workflow_file(tmp_path, """
        class Warehouse(BaseModel):
            host: str
            port: int = 5439
            passwd: str | None = None


        class Load(BaseModel):
            table: str
            targets: list[Warehouse]


        @workflow
        def flow(request: Load) -> str:
            return echo(request.table)
        """)
    error = first_error(path)
    assert error is not None and error.rule == "secret-parameter"
    assert "'request.targets.passwd' that looks like a password" in error.message
    assert error.location is not None and error.location.line == 15


@pytest.mark.parametrize(("body", "line", "message"), [
    ("""
     @workflow
     def flow(day: str = "2024-06-02") -> str:
         return echo("AKIAIOSFODNN7EXAMPLE")
     """, 14, "a value written here looks like an AWS access key id"),
    ("""
     class Config(BaseModel):
         account: str = "AKIAIOSFODNN7EXAMPLE"


     @workflow
     def flow(config: Config) -> str:
         return echo(config.account)
     """, 13, "the default of parameter 'config.account' looks like an AWS access key id"),
    ("""
     @workflow(schedule=cron("0 6 * * ? *", params={"note": "-----BEGIN EC PRIVATE KEY-----"}))
     def flow(note: str = "") -> str:
         return echo(note)
     """, 12, "the params of the schedule cron(0 6 * * ? *) hold what looks like a private key"),
    ("""
     class Leaked(Exception):
         pass


     @workflow
     def flow(day: str = "2024-06-02") -> str:
         echo(day)
         raise Leaked("AKIAIOSFODNN7EXAMPLE was rotated")
     """, 19, "a value written here looks like an AWS access key id"),
])
def test_a_credential_written_in_a_workflow_is_refused(tmp_path: Path, body: str, line: int, message: str) -> None:
    path = workflow_file(tmp_path, body)
    error = first_error(path)
    assert error is not None and error.rule == "secret-literal", error
    assert error.message.startswith(message)
    assert "AKIA" not in error.format() and "BEGIN" not in error.format(), "the message never repeats the value"
    assert error.location is not None and error.location.line == line


def test_run_parameters_that_look_like_secrets_never_start_a_run() -> None:
    with pytest.raises(ParamsError, match="password: this looks like a password, and a run's parameters are kept in "
                                          "clear in its execution history"):
        publish_metrics.validate_params({"password": "hunter22"})
    with pytest.raises(ParamsError, match="model: this holds what looks like an AWS access key id"):
        publish_metrics.validate_params({"model": "AKIAIOSFODNN7EXAMPLE"})
    assert publish_metrics.validate_params({"model": "churn"})["model"] == "churn"


@pytest.mark.parametrize("command", ["run", "trigger"])
def test_the_command_line_refuses_a_secret_parameter_in_one_line(command: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [command, str(ROOT / "examples" / "ml_training.py") if command == "run"
                                       else "ml_training", "-p", "password=hunter22", "--home", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "password: this looks like a password" in result.output and "Secrets Manager" in result.output
    assert "Traceback" not in result.output and "hunter22" not in result.output


# --- the example -------------------------------------------------------------------------


def test_the_example_signs_with_the_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local story: each secret in STEPSTONE_SECRET_<NAME> (the example's docstring says so)."""
    for name, value in EXAMPLE_ENV.items():
        monkeypatch.setenv(name, value)
    delivery = publish_metrics()
    body = json.dumps(_evaluation_body(), sort_keys=True).encode()
    assert delivery.endpoint is None and delivery.status is None, "a dry run by default"
    assert delivery.signature == hmac.new(EXAMPLE_ENV[SIGNING_KEY.env_var].encode(), body, hashlib.sha256).hexdigest()


def _evaluation_body() -> dict[str, Any]:
    from examples.publish_metrics import evaluate

    return evaluate("churn-classifier", "2024-06-02").model_dump()


def test_a_local_run_keeps_no_secret_in_its_artifacts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in EXAMPLE_ENV.items():
        monkeypatch.setenv(name, value)
    record = LocalRun(publish_metrics, LocalStore(tmp_path), run_id="local").run(
        publish_metrics.validate_params({})).record
    assert record.status == "succeeded", (record.error, record.cause)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files and not any(v.encode() in p.read_bytes() for p in files for v in EXAMPLE_ENV.values())


def test_the_compiled_workflow_names_no_secret_and_its_step_declares_both() -> None:
    compiled = compile_workflow(publish_metrics)
    assert "metrics-api-token" not in compiled.asl_json and "signing" not in compiled.asl_json
    (spec,) = plan_deployment([publish_metrics]).state_machines
    assert spec.functions["post_metrics"].secrets == (SIGNING_KEY, METRICS_TOKEN)
    assert spec.functions["evaluate"].secrets == ()
    assert spec.functions["post_metrics"] is not spec.functions["evaluate"], "a step's secrets are its function's"
