"""What starts a workflow's runs: its deployment plan's schedules (EventBridge Scheduler, in
their time zone) and rules (EventBridge: S3 uploads, another workflow's success; on
LocalStack schedules it can fire and uploads through the S3 relay), rendered. Every target
role may start only this workflow's state machine.
"""

from __future__ import annotations

import json

from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from compiler.deployment.plan import STATE_MACHINE, EventRule, StateMachineSpec

from .workflow import state_machine_arn

__all__ = ["Triggers"]


class Triggers(Construct):
    def __init__(self, scope: Construct, id: str, *, spec: StateMachineSpec, target_arn: str,
                 relay: lambda_.Function | None = None) -> None:
        super().__init__(scope, id)
        self.spec = spec
        self.target_arn = target_arn
        self.role = iam.Role(self, "Role", assumed_by=iam.CompositePrincipal(
            iam.ServicePrincipal("events.amazonaws.com"), iam.ServicePrincipal("scheduler.amazonaws.com")),
            description=f"starts runs of {spec.name}, and nothing else")
        self.role.add_to_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[target_arn]))
        self.rules: list[events.CfnRule] = []
        self.schedules: list[scheduler.CfnSchedule] = []
        for schedule in spec.schedules:
            self.schedules.append(scheduler.CfnSchedule(
                self, schedule.id, schedule_expression=schedule.expression,
                schedule_expression_timezone=schedule.timezone,
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                description=schedule.description,
                target=scheduler.CfnSchedule.TargetProperty(arn=target_arn, role_arn=self.role.role_arn,
                                                            input=schedule.input)))
        for rule in spec.rules:
            if rule.via_relay:
                assert relay is not None, f"{spec.name}: a rule goes through the S3 relay, which the stack lacks"
                self._relayed(rule, relay)
            else:
                self._rule(rule)

    def _transformer(self, rule: EventRule) -> events.CfnRule.InputTransformerProperty | None:
        if rule.input_transformer is None:
            return None
        template = str(rule.input_transformer["InputTemplate"]).replace(STATE_MACHINE, self.target_arn)
        return events.CfnRule.InputTransformerProperty(input_paths_map=dict(rule.input_transformer["InputPathsMap"]),
                                                       input_template=template)

    def _pattern(self, rule: EventRule) -> dict[str, object] | None:
        if rule.event_pattern is None:
            return None
        pattern = json.loads(json.dumps(rule.event_pattern))
        if rule.upstream is not None:  # another workflow's success: its state machine's events
            pattern["detail"]["stateMachineArn"] = [state_machine_arn(self, rule.upstream)]
        return dict(pattern)

    def _relayed(self, rule: EventRule, relay: lambda_.Function) -> None:
        """An upload rule whose target is the S3 relay, which decodes the key and starts the run."""
        cfn = events.CfnRule(self, rule.id, description=rule.description[:512], state="ENABLED",
                             event_pattern=self._pattern(rule),
                             targets=[events.CfnRule.TargetProperty(arn=relay.function_arn, id="start-run",
                                                                    input_transformer=self._transformer(rule))])
        self.rules.append(cfn)
        relay.add_permission(f"{rule.id}Invoke", principal=iam.ServicePrincipal("events.amazonaws.com"),
                             source_arn=cfn.attr_arn)
        relay.add_to_role_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[self.target_arn]))

    def _rule(self, rule: EventRule) -> None:
        target = events.CfnRule.TargetProperty(arn=self.target_arn, id="start-run", role_arn=self.role.role_arn,
                                               input=rule.input, input_transformer=self._transformer(rule))
        self.rules.append(events.CfnRule(self, rule.id, description=rule.description[:512], state="ENABLED",
                                         schedule_expression=rule.schedule_expression,
                                         event_pattern=self._pattern(rule), targets=[target]))
