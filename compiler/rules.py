"""What each compiler rule means and what to do about it: the one home of the rules' documentation.

Every :class:`~compiler.dsl.errors.CompileError` names a rule (``error[cycle]``). The code that
finds the problem raises it where it is found (the DSL's decorators and options, the parser,
the checks, the loader, the pipeline); this catalogue says, in a user's words, what each rule
rejects, why, and what to write instead. ``docs/gen/rules.py`` renders it, with the bad
workflows of ``tests/invalid/workflows/`` and the messages they give, as the documentation's
*Compiler rules* page; ``tests/unit/test_rule_catalogue.py`` fails when the compiler raises a
rule that is not here, or when a rule here is raised nowhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = ["CATALOGUE", "TOPICS", "RuleDoc", "Topic"]

Topic = Literal["definitions", "steps", "statements", "values", "calls", "conditions", "fan-outs", "errors",
                "schedules", "secrets", "express", "limits"]

TOPICS: Mapping[Topic, str] = MappingProxyType({
    "definitions": "Workflow files and definitions",
    "steps": "Steps and their options",
    "statements": "Statements and variables",
    "values": "Names and values",
    "calls": "Calls",
    "conditions": "Conditions",
    "fan-outs": "Fan-outs",
    "errors": "Errors and retries",
    "schedules": "Schedules and triggers",
    "secrets": "Secrets",
    "express": "Express workflows",
    "limits": "Step Functions' limits",
})
"""The page's sections, in order, with their titles."""


@dataclass(frozen=True, slots=True)
class RuleDoc:
    """One rule: what it rejects (``summary``, one sentence), why (``explanation``) and the fix.

    ``covered_by`` names the test that triggers a rule no bad workflow file can (for
    example a limit that only a huge workflow reaches); it is ``None`` for the others, which
    ``tests/invalid/workflows/`` shows.
    """

    name: str
    topic: Topic
    summary: str
    explanation: str
    fix: str
    covered_by: str | None = None


_UNTRIGGERABLE = "tests/unit/test_rule_catalogue.py"

_RULES = (
    # --- workflow files and definitions ---------------------------------------------------------------
    RuleDoc("syntax-error", "definitions", "The workflow file is not valid Python.",
            "stepstone imports the file to find its workflows, so Python must be able to read it first.",
            "Fix the syntax at the line shown; `python FILE` reports the same error."),
    RuleDoc("import-error", "definitions", "Importing the workflow file failed.",
            "stepstone imports the file as the step runner will: a missing package, an exception at "
            "module level or a `sys.exit()` call stops the import before any workflow is defined.",
            "Install what the file imports where stepstone runs, or move the code that fails under "
            "`if __name__ == \"__main__\":`; `python FILE` shows the full traceback."),
    RuleDoc("no-source", "definitions", "The compiler cannot read the source of a workflow function.",
            "A workflow is compiled from its source text. A function made by `exec()`, typed at the "
            "interactive prompt or shipped without its `.py` file has none.",
            "Define the workflow in a `.py` file.",
            covered_by=f"{_UNTRIGGERABLE}::test_a_workflow_without_source_is_no_source"),
    RuleDoc("bad-workflow", "definitions", "`@workflow` is applied to something that is not a module-level function.",
            "The compiler and the step runner find a workflow by its module and name, so it must be a plain "
            "`def` at the top level of its module, not a class, a lambda or a function made inside another.",
            "Write `@workflow` on a `def` at module level; to make several similar workflows, write each one "
            "and share the steps."),
    RuleDoc("duplicate-workflow-name", "definitions", "Two workflows in one file have the same name.",
            "A workflow's name is its state machine's name: the second would replace the first when deployed.",
            "Rename one function, or give it another name with `@workflow(name=...)`."),
    RuleDoc("bad-name", "definitions", "A step or workflow name that AWS would reject.",
            "Step and workflow names become the names of states, Lambda functions and state machines: "
            "they start with a letter and use letters, digits, `_` and `-`, at most 64 characters.",
            "Rename the function, or pass a valid `name=` to `@step` or `@workflow`."),
    RuleDoc("bad-parameters", "definitions", "A workflow parameter a run's input cannot carry.",
            "A run's parameters arrive as JSON. `*args` and `**kwargs` have no names to fill, a name that "
            "starts with `_` (or an input field named like the run's own state) is stepstone's, and a type "
            "that JSON cannot hold (or that cannot be resolved) cannot be checked.",
            "Name every parameter, give it a JSON-friendly type (str, int, float, bool, lists and dicts of "
            "them, or a pydantic model) and import every type its annotation names."),
    RuleDoc("bad-default", "definitions", "A parameter default that does not fit its type, or defaults too big.",
            "Defaults are part of every run's input, so each must be valid JSON of the parameter's type, and "
            "together they must fit the run's input limit.",
            "Give the parameter a default of its own type (or `None`, annotated `... | None = None`); pass "
            "large data by reference, as an S3 key a step reads."),
    RuleDoc("empty-workflow", "definitions", "A workflow that calls no step.",
            "A state machine needs at least one state that does work; a body that only returns its input "
            "would compile to nothing to run.",
            "Call at least one `@step` function (or another workflow) in the body."),
    # --- steps and their options ----------------------------------------------------------------------
    RuleDoc("bad-step", "steps", "`@step` is applied to something the step runner cannot call.",
            "The step runner imports a step by module and name and calls it with named inputs: it must be a "
            "plain, synchronous function at module level, without `*args` or a parameter named `after` "
            "(stepstone's ordering keyword).",
            "Define the step with `def` at module level, list each input as a named parameter, and return "
            "the result instead of yielding it."),
    RuleDoc("bad-option", "steps", "A step, workflow, compute or retry option with a value it cannot take.",
            "Options are checked where they are written: durations are whole seconds, counts are whole "
            "numbers within AWS's ranges, `type=` is 'standard' or 'express', a heartbeat is shorter than "
            "the timeout, a step's timeout fits its Lambda function's, and a catch-all `Retry` comes last.",
            "Write the value the message names; the hint shows a valid example."),
    RuleDoc("lambda-timeout", "steps", "A Lambda step's timeout is longer than Lambda allows.",
            "A Lambda function runs for at most 900 seconds (15 minutes).",
            "Lower `Lambda(timeout=...)`, or run the step on AWS Batch: `compute=Batch(vcpus=..., memory=...)`."),
    RuleDoc("gpu-on-lambda", "steps", "A Lambda step asks for GPUs.",
            "Lambda functions have no GPUs.",
            "Run the step on AWS Batch: `compute=Batch(gpus=1, vcpus=..., memory=...)`."),
    RuleDoc("batch-no-instance", "steps", "A Batch step asks for more GPUs, vCPUs or memory than any instance has.",
            "AWS Batch places a job only on an instance of its compute environment that holds all it asks for; "
            "one that no instance fits waits RUNNABLE for ever, with no error.",
            "Ask for at most what the largest instance has (the message says it), or split the work."),
    RuleDoc("unserializable-type", "steps", "A step's parameter or return type cannot pass between steps.",
            "Each step runs in its own process (a Lambda invocation or a Batch job); its inputs and its "
            "result travel through the run's store by a codec: JSON, Parquet (DataFrames), .npy (arrays), "
            "torch, a file or folder (`Artifact`), or pickle for any other object. What belongs to the process "
            "that made it (an open file, a lock, a connection, a generator) has none.",
            "Return what the next step needs to make it again (a path, a URI, the settings) and open connections "
            "inside the step that uses them, or register a codec for your type (`stepstone.register_codec`)."),
    RuleDoc("duplicate-step-name", "steps", "Two different step functions have the same step name.",
            "A step's name names its state and the function that runs it; two steps of one name would run "
            "each other's code.",
            "Rename one, or give it another name with `@step(name=...)`."),
    # --- statements and variables ---------------------------------------------------------------------
    RuleDoc("unsupported-statement", "statements", "A statement a workflow body cannot contain.",
            "A workflow body is compiled to states, not run: it may hold assignments of step results, "
            "`if`/`elif`/`else`, `for` loops and comprehensions that fan out, `try`/`except`, `raise` and "
            "`return`. Loops that repeat (`while`), `with`, imports, nested functions, unpacking, in-place "
            "changes and the like have no state to become.",
            "Move that logic into a step, or write it with the statements above; the hint names the usual "
            "rewrite."),
    RuleDoc("unreachable", "statements", "Code that can never run.",
            "Every path before it ends in `return` or `raise`, or an earlier `except` already catches every "
            "error; the states it would compile to would have no way in.",
            "Remove it, move it before the `return`, or put the catch-all `except` last."),
    RuleDoc("return-in-loop", "statements", "A `return` inside a fan-out loop.",
            "Each item of a fan-out runs on its own path, which ends at the end of the loop body; a return "
            "there would have to end the whole run from one item.",
            "Collect results with `results.append(...)` and return after the loop."),
    RuleDoc("used-before-assignment", "statements", "A variable used above the line that assigns it.",
            "The body is read top to bottom, like Python runs it; the value does not exist yet.",
            "Move the line that makes the value above the line that uses it."),
    RuleDoc("maybe-unassigned", "statements", "A variable assigned on some paths only, used where it may be unset.",
            "After an `if` that assigns it in one branch, or a fan-out in which each item has its own "
            "value, the state machine has no value to pass on every path.",
            "Assign it on every path (for example `x = None` in the other branch), or use it inside the "
            "branch or loop that made it."),
    RuleDoc("mixed-kinds", "statements", "A variable that holds different kinds of value on different paths.",
            "After an `if`, one name must point at one kind of value: a step result on one path and a "
            "fan-out's list, an approval or a caught error on another cannot be read the same way.",
            "Give the variable the same kind of value in every branch, or use a different name in each."),
    # --- names and values -----------------------------------------------------------------------------
    RuleDoc("undefined-name", "values", "A name the workflow's module does not define.",
            "Every name a workflow body uses must be a parameter, a step result, a step, a workflow or a "
            "module-level constant or exception class; a misspelt one is found here, not at run time.",
            "Fix the spelling (the message suggests the nearest name), or define or import it."),
    RuleDoc("foreign-value", "values", "A module-level object that is not a literal constant.",
            "A workflow's values live in the run's state as JSON; a module-level `datetime`, client or "
            "other object cannot be written there, and would be frozen at compile time if it could.",
            "Pass it as a workflow parameter, or compute it inside a step."),
    RuleDoc("step-not-called", "values", "A step or workflow used as a value instead of called.",
            "A workflow body passes results between steps; a step function itself is not a value.",
            "Call it and pass its result: `result = build_dataset(...)`, then `train(result)`."),
    RuleDoc("unsupported-expression", "values", "An expression the state machine cannot evaluate.",
            "Step Functions moves values between states; it cannot do arithmetic, format f-strings, call "
            "lambdas, choose with `a if c else b`, index with a variable or build lists from results.",
            "Compute the value inside a step and return it as a field of the step's result; the hint "
            "names the rewrite."),
    RuleDoc("unknown-field", "values", "A field that the step's result type does not have.",
            "The compiler reads the fields of a step's result from its return annotation, so a misspelt "
            "field is found at compile time instead of failing the run.",
            "Use one of the fields the message lists, or annotate the step's return type."),
    RuleDoc("unserializable-value", "values", "A literal that is not JSON.",
            "Literals in a workflow body go into the state machine's definition, which is JSON: sets, "
            "bytes, complex numbers, NaN, dicts with non-string keys and keys ending in `.$` cannot.",
            "Write JSON values (strings, numbers, booleans, None, lists, string-keyed dicts), or build "
            "the value inside a step."),
    RuleDoc("literal-too-large", "values", "A literal of more than 8 KiB in the workflow body.",
            "Every run carries the body's literals in its state, which Step Functions limits to 256 KiB.",
            "Put large data in S3 and pass its key."),
    RuleDoc("conflicting-storage", "values", "One step result needed both in the run's state and in S3.",
            "stepstone keeps each step result either in the run's state (an inline fan-out and a condition "
            "read it there) or in S3 (an AWS Batch job and a distributed fan-out read it by reference). One "
            "result cannot be kept both ways.",
            "Give the two uses separate step calls, for example a second step that returns the list again."),
    # --- calls ----------------------------------------------------------------------------------------
    RuleDoc("not-a-step", "calls", "A call to something that is not a step.",
            "A workflow body can call `@step` functions, other `@workflow` functions, `approve(...)` and "
            "`stepstone.map(...)`; a plain function, a built-in or a method would have to run inside the "
            "state machine, which runs no Python.",
            "Decorate the function with `@step`, or do the work inside a step."),
    RuleDoc("wrong-arguments", "calls", "A call whose arguments do not fit the step's signature.",
            "Missing, extra and misspelt arguments are found at compile time, as Python would find them at "
            "call time.",
            "Call the step as its signature says (the hint shows it)."),
    RuleDoc("wrong-argument-type", "calls", "An argument whose type does not fit the parameter's annotation.",
            "The compiler knows each step result's type and each literal's value, and checks them against "
            "the annotations, as pydantic would when the step runs.",
            "Pass a value of the annotated type, or change the annotation."),
    RuleDoc("workflow-argument", "calls", "A nested workflow called with a step result its parameter cannot take.",
            "A nested workflow is a separate run. A parameter typed as a DataFrame, an array, a model or a record "
            "holding one takes a step result whole (the child reads the caller's stored value, as its own steps' "
            "results); any other parameter is a plain JSON value, which a whole result, a field that is not a "
            "scalar, or a fan-out's list is not.",
            "Pass a scalar field of the result (`result.uri`), a parameter of this workflow, or type the nested "
            "workflow's parameter as the value it takes (`frame: pd.DataFrame`) and pass the step's result."),
    RuleDoc("bad-after", "calls", "`after=` (or `.after(...)`) names something that is not a step result.",
            "`after=[x]` orders a step after the steps that made `x`; a parameter or a literal was made by "
            "no step.",
            "Name the results of the steps to wait for: `publish(model, after=[tests])`."),
    RuleDoc("bad-approve", "calls", "`approve(...)` with a question or argument it cannot take.",
            "The question is written into the state machine when it is compiled, so it must be one literal "
            "string; `approve` takes only `timeout=` and `after=` besides.",
            "Write `approve(\"Release the model?\", timeout=timedelta(days=2))`; put run-specific details in "
            "the step that notifies the approvers."),
    RuleDoc("cycle", "calls", "Workflows that start themselves, directly or through others.",
            "A workflow that calls itself (or a chain that comes back to it) would start runs without end.",
            "Fan out over the items instead of recursing; break the chain of nested workflows."),
    # --- conditions -----------------------------------------------------------------------------------
    RuleDoc("unsupported-condition", "conditions", "An `if` test a Choice state cannot express.",
            "A Choice state compares top-level number, string and boolean fields of step results and "
            "parameters with values: `==`, `!=`, `<`..., `is None`, `in` a literal tuple, and `and`/`or`/"
            "`not`. Nested fields, lists of fan-out results and two constants cannot be tested.",
            "Return the value to test as a top-level scalar field of a step's result and test that."),
    RuleDoc("call-in-condition", "conditions", "A call inside an `if` test.",
            "A Choice state can only read values that already exist; a step must run in its own state first.",
            "Assign the step's result to a variable, then test it."),
    RuleDoc("condition-on-batch-output", "conditions", "An `if` that tests the result of an AWS Batch step.",
            "A Batch job's result goes to S3; Step Functions never sees it, so a Choice state cannot read it.",
            "Test the result of a Lambda step that reads it (for example an evaluation step)."),
    RuleDoc("truthiness", "conditions", "`if x:` where `x` is not a boolean.",
            "Python's truthiness of numbers, strings, lists and models has no Choice state equivalent, and "
            "`if report:` is always true for a step result.",
            "Test a boolean field, or compare explicitly: `if listing.count > 0:`."),
    RuleDoc("type-mismatch", "conditions", "A comparison of values of different types.",
            "A Choice state compares numbers with numbers and strings with strings; `count == '10'` is never "
            "true.",
            "Compare values of the same type."),
    RuleDoc("unknown-type", "conditions", "A comparison whose value types the compiler cannot tell.",
            "A Choice state needs to know whether it compares numbers, strings or booleans; an untyped result "
            "(`dict`, `Any`) does not say.",
            "Annotate the step's return type with a pydantic model whose fields are typed, or compare with a "
            "literal of the right type."),
    # --- fan-outs -------------------------------------------------------------------------------------
    RuleDoc("bad-fan-out", "fan-outs", "A `for` loop or comprehension that cannot become a Map state.",
            "A fan-out runs one step path per item of a list that Step Functions can read: the list comes "
            "from a parameter or a Lambda step (not a Batch job), its size must be declared to keep it in the "
            "state, and each item must append exactly one step result.",
            "Fan out over a list-typed value with one `for`, call a step for each item and collect its "
            "result: `results = [train(p) for p in grid]`; filter lists in a step."),
    RuleDoc("bad-map", "fan-outs", "`stepstone.map(...)` called with arguments it cannot take.",
            "`stepstone.map(step, items, max_concurrency=N, max_items=N)` needs a `@step` that takes the item "
            "as its first argument, and literal whole numbers for its options, which the compiler writes into "
            "the Map state.",
            "Write `stepstone.map(train, grid, max_concurrency=4)` with a literal number."),
    RuleDoc("inline-map-concurrency", "fan-outs", "An inline fan-out that asks for more than 40 items at once.",
            "Step Functions runs at most 40 iterations of an inline Map state at the same time.",
            "Use `max_concurrency` of at most 40, or declare more than 100 items (`max_items=...`) to fan "
            "out as a distributed map."),
    # --- errors and retries ---------------------------------------------------------------------------
    RuleDoc("bad-error-name", "errors", "`Retry(on=...)` names something that is not an error.",
            "A retry policy matches errors by name; a misspelt `States.` name or a value that is neither an "
            "exception class nor an error name would never match.",
            "Use an exception class or one of the `States.` names the hint lists."),
    RuleDoc("opaque-error", "errors", "A Retry or `except` that names a Python exception of an opaque step.",
            "Step Functions reports a failed AWS Batch job or nested workflow as `States.TaskFailed` (or "
            "`States.Timeout`), never by the Python exception inside it, so the policy would never fire.",
            "Name `States.TaskFailed` (and `States.Timeout`), catch `Exception`, or leave `on=` out to retry "
            "every failure."),
    RuleDoc("bad-raise", "errors", "A `raise` that a Fail state cannot express.",
            "A Fail state has a fixed error name and cause: the error must be an exception class defined at "
            "module level and its message one literal string.",
            "Write `raise MyError('what went wrong')`; pass values to a step to build a detailed message."),
    RuleDoc("bad-except", "errors", "An `except` clause that names something that is not an exception class.",
            "A Catch field matches error names, which come from exception classes.",
            "Catch exception classes defined or imported at module level: `except DataError:`."),
    # --- schedules and triggers -----------------------------------------------------------------------
    RuleDoc("bad-schedule", "schedules", "A cron or rate expression EventBridge would reject.",
            "Schedules use EventBridge's six-field cron (minutes hours day-of-month month day-of-week year, "
            "exactly one of the two day fields `?`) and rates in minutes, hours or days.",
            "Write `cron(\"0 3 * * ? *\")` or `rate(6, \"hours\")`; the message names the field that is wrong."),
    RuleDoc("bad-timezone", "schedules", "A schedule in a time zone that does not exist.",
            "EventBridge Scheduler takes IANA time zone names.",
            "Use a name such as `Europe/Berlin` or `UTC` (the message suggests the nearest one)."),
    RuleDoc("bad-trigger", "schedules", "An `s3_upload` or `workflow_succeeded` trigger with an invalid value.",
            "A trigger becomes an EventBridge rule: the bucket must be a valid S3 bucket name, the prefix an "
            "S3 key prefix (no leading `/`), and `workflow_succeeded` needs a workflow.",
            "Fix the value the message names."),
    RuleDoc("schedule-params", "schedules", "A schedule that would start runs with invalid parameters.",
            "A schedule starts every run with its `params=` plus the defaults; a parameter without a default, "
            "or a value of the wrong type, would fail every scheduled run.",
            "Pass `params={...}` with a valid value for every parameter that has no default."),
    RuleDoc("trigger-params", "schedules", "A trigger that would start runs with invalid parameters.",
            "An `s3_upload` trigger passes the object's bucket and key to the parameters `bucket_param=` and "
            "`key_param=` name, and every trigger adds its `params=`; each run must validate.",
            "Add the parameters the trigger fills (e.g. `key: str | None = None`), or point "
            "`bucket_param=`/`key_param=` at the ones you have."),
    # --- secrets --------------------------------------------------------------------------------------
    RuleDoc("bad-secret-name", "secrets", "A `Secret(...)` whose name the store would reject.",
            "Secrets Manager and Parameter Store each have their own rules for names (characters and length).",
            "Use the name exactly as the store has it; the message gives the store's rule."),
    RuleDoc("secret-parameter", "secrets", "A workflow parameter named like a credential.",
            "A run's parameters are kept in clear in its execution history, its run record and its "
            "schedules, so a `password: str` parameter puts the password there.",
            "Keep the secret in AWS Secrets Manager or Parameter Store: declare `PASSWORD = Secret(...)` at "
            "module level, `@step(secrets=[PASSWORD])`, and call `PASSWORD.value()` in the step."),
    RuleDoc("secret-literal", "secrets", "A value in the workflow that looks like a credential.",
            "An AWS access key, a private key or an API token written as a default, in a schedule's or "
            "trigger's `params=`, or in the body ends up in clear in the state machine, its schedules and "
            "every run's input.",
            "Move it to Secrets Manager or Parameter Store, read it with `Secret(...).value()` in the step, "
            "and revoke the one in your source."),
    # --- Express workflows ----------------------------------------------------------------------------
    RuleDoc("express", "express", "Something an Express workflow cannot do.",
            "Express workflows cannot wait: not for an AWS Batch job or a nested workflow (`.sync`), not for "
            "an approval (a task token), and not for a distributed fan-out's child runs.",
            "Use `@workflow(type='standard')`, or run that part from a Standard workflow."),
    RuleDoc("express-duration", "express", "An Express workflow that can run longer than 5 minutes.",
            "Step Functions stops an Express run after 300 seconds; the compiler adds up the steps' timeouts, "
            "retries and waits along the longest path.",
            "Lower the steps' `timeout=` or retries, or use `type='standard'`."),
    # --- Step Functions' limits -----------------------------------------------------------------------
    RuleDoc("payload-limit", "limits", "A run whose state can pass Step Functions' 256 KiB limit.",
            "The run's state carries the results kept inline, the parameters and the literals; the compiler "
            "adds up the most they can hold at once, and a run that passes 256 KiB would fail mid-way.",
            "Pass large lists to a step instead of keeping them all, split the workflow into nested "
            "workflows, or fan out as a distributed map (declare more than 100 items)."),
    RuleDoc("history-limit", "limits", "A run that can write more than 25,000 history events.",
            "Step Functions stops a Standard run at 25,000 events; each state, retry and inline Map "
            "iteration writes some, and the compiler counts the most a run can write.",
            "Fan out with a distributed map (declare `max_items` above 100), which runs items as child runs, "
            "or split the work into nested workflows."),
    RuleDoc("definition-size", "limits", "A compiled state machine larger than Step Functions accepts.",
            "A state machine definition may be at most 1 MiB; only a very large workflow body reaches it.",
            "Split the workflow into nested workflows (call one `@workflow` from another).",
            covered_by=f"{_UNTRIGGERABLE}::test_a_definition_over_the_limit_is_definition_size"),
    RuleDoc("state-name", "limits", "A state name Step Functions' logs and console would reject.",
            "States are named from the source (step names, variable names, conditions); a name must be at "
            "most 80 characters of letters, digits, spaces and `_.()'=!+-`. Variable names with letters "
            "outside ASCII are the usual cause.",
            "Use ASCII names for the variables and steps the state is named after, or give the step a "
            "shorter name with `@step(name=...)`."),
)

CATALOGUE: Mapping[str, RuleDoc] = MappingProxyType({doc.name: doc for doc in _RULES})
"""Every rule a CompileError can name, by name, in the order the page shows them."""
