"""What starts a workflow: its schedules, S3 uploads, another workflow succeeding.

- A schedule is an EventBridge Scheduler schedule with its time zone. LocalStack accepts
  those but never fires them, so on LocalStack a schedule that an EventBridge rule can
  express exactly (a rate, or a cron in UTC) becomes such a rule instead, which does fire.
- An ``s3_upload`` is an EventBridge rule on the bucket's "Object Created" events with the
  prefix and suffix; the bucket must send its events to EventBridge (``enable_eventbridge``
  for the artifact bucket; a bucket of the user's is theirs to switch on). LocalStack's S3
  events percent-encode the key (AWS's do not): there the rule matches the encoded key and
  starts the run through the S3 relay function (``lambdas.s3_trigger``), which decodes it.
- ``workflow_succeeded`` is a rule on Step Functions' "Execution Status Change" events.

Every run gets every parameter (defaults filled in): a state machine has no defaults.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from compiler import protocol
from compiler.deployment.rules import s3_event_pattern, s3_input_transformer, s3_relay_transformer
from compiler.dsl.triggers import S3Upload, WorkflowSucceeded
from compiler.dsl.workflows import WorkflowDef

from .workflow import state_machine_arn

__all__ = ["Triggers"]


def _rule_expression(expression: str, timezone: str) -> str | None:
    """The schedule as an EventBridge rule expression, when a rule means the same (rules run in UTC)."""
    if expression.startswith("rate("):
        return expression
    return expression if timezone in ("UTC", "Etc/UTC") else None


class Triggers(Construct):
    def __init__(self, scope: Construct, id: str, *, definition: WorkflowDef[..., Any], target_arn: str,
                 localstack: bool, relay: lambda_.Function | None = None) -> None:
        super().__init__(scope, id)
        self.definition = definition
        self.target_arn = target_arn
        self.role = iam.Role(self, "Role", assumed_by=iam.CompositePrincipal(
            iam.ServicePrincipal("events.amazonaws.com"), iam.ServicePrincipal("scheduler.amazonaws.com")),
            description=f"starts runs of {definition.name}, and nothing else")
        self.role.add_to_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[target_arn]))
        self.rules: list[events.CfnRule] = []
        self.schedules: list[scheduler.CfnSchedule] = []
        options = definition.options
        for index, schedule in enumerate(options.schedules, start=1):
            run_input = json.dumps(protocol.run_input(definition.validate_params(schedule.params), {
                "kind": "schedule", "expression": schedule.expression}), sort_keys=True)
            expression = _rule_expression(schedule.expression, schedule.timezone)
            if localstack and expression is not None:
                self._rule(f"Schedule{index}", run_input=run_input, schedule_expression=expression,
                           description=f"{definition.name} on {schedule.expression} (an EventBridge rule on "
                                       "LocalStack, which does not fire Scheduler schedules)")
                continue
            self.schedules.append(scheduler.CfnSchedule(
                self, f"Schedule{index}", schedule_expression=schedule.expression,
                schedule_expression_timezone=schedule.timezone,
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                description=f"start {definition.name}: {schedule.expression} ({schedule.timezone})",
                target=scheduler.CfnSchedule.TargetProperty(arn=target_arn, role_arn=self.role.role_arn,
                                                            input=run_input)))
        for index, trigger in enumerate(options.triggers, start=1):
            if isinstance(trigger, S3Upload):
                description = f"start {definition.name} for each new s3://{trigger.bucket}/" \
                              f"{trigger.prefix}*{trigger.suffix}"
                if localstack and relay is not None:
                    self._relayed(f"Upload{index}", trigger, relay, description)
                    continue
                transformer = s3_input_transformer(trigger, definition)
                self._rule(f"Upload{index}", event_pattern=s3_event_pattern(trigger),
                           input_transformer=events.CfnRule.InputTransformerProperty(
                               input_paths_map=transformer["InputPathsMap"],
                               input_template=transformer["InputTemplate"]),
                           description=description)
            elif isinstance(trigger, WorkflowSucceeded):
                upstream = state_machine_arn(self, trigger.workflow)
                self._rule(f"After{index}", event_pattern={
                    "source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
                    "detail": {"status": ["SUCCEEDED"], "stateMachineArn": [upstream]}},
                    run_input=json.dumps(protocol.run_input(definition.validate_params(trigger.params), {
                        "kind": "workflow", "workflow": trigger.workflow}), sort_keys=True),
                    description=f"start {definition.name} each time {trigger.workflow} succeeds")

    def _relayed(self, id: str, trigger: S3Upload, relay: lambda_.Function, description: str) -> None:
        """An upload rule whose target is the S3 relay, which decodes the key and starts the run."""
        transformer = s3_relay_transformer(trigger, self.definition, self.target_arn)
        rule = events.CfnRule(self, id, description=description[:512], state="ENABLED",
                              event_pattern=s3_event_pattern(trigger, url_encoded_keys=True),
                              targets=[events.CfnRule.TargetProperty(
                                  arn=relay.function_arn, id="start-run",
                                  input_transformer=events.CfnRule.InputTransformerProperty(
                                      input_paths_map=transformer["InputPathsMap"],
                                      input_template=transformer["InputTemplate"]))])
        self.rules.append(rule)
        relay.add_permission(f"{id}Invoke", principal=iam.ServicePrincipal("events.amazonaws.com"),
                             source_arn=rule.attr_arn)
        relay.add_to_role_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[self.target_arn]))

    def _rule(self, id: str, *, description: str, run_input: str | None = None, schedule_expression: str | None = None,
              event_pattern: Mapping[str, Any] | None = None,
              input_transformer: events.CfnRule.InputTransformerProperty | None = None) -> None:
        target = events.CfnRule.TargetProperty(arn=self.target_arn, id="start-run", role_arn=self.role.role_arn,
                                               input=run_input, input_transformer=input_transformer)
        self.rules.append(events.CfnRule(self, id, description=description[:512], state="ENABLED",
                                         schedule_expression=schedule_expression,
                                         event_pattern=dict(event_pattern) if event_pattern else None,
                                         targets=[target]))
