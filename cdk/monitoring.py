"""Knowing when runs fail: an encrypted SNS topic (an e-mail address may subscribe), and per
workflow alarms on failed and timed-out runs and a dashboard of its runs and steps."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

__all__ = ["AlarmTopic", "WorkflowAlarms", "alarm_topic_arn"]


TOPIC = "stepstone-run-alarms"


def alarm_topic_arn(scope: Construct) -> str:
    return Stack.of(scope).format_arn(service="sns", resource=TOPIC, arn_format=ArnFormat.NO_RESOURCE_NAME)


class AlarmTopic(Construct):
    def __init__(self, scope: Construct, id: str, *, email: str | None) -> None:
        super().__init__(scope, id)
        self.key = kms.Key(self, "Key", enable_key_rotation=True, description="stepstone alarm topic")
        self.topic = sns.Topic(self, "Topic", topic_name=TOPIC, display_name="stepstone run alarms",
                               master_key=self.key, enforce_ssl=True)
        # CloudWatch publishes encrypted alarms only if it may use the key
        self.key.add_to_resource_policy(iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"],
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")]))
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))


class WorkflowAlarms(Construct):
    def __init__(self, scope: Construct, id: str, *, workflow: str, state_machine: sfn.IStateMachine,
                 topic: sns.ITopic, functions: Sequence[lambda_.IFunction]) -> None:
        super().__init__(scope, id)
        notify = actions.SnsAction(topic)
        self.alarms: list[cloudwatch.Alarm] = []
        for what, metric in (("failed", state_machine.metric_failed(period=Duration.minutes(5))),
                             ("timed out", state_machine.metric_timed_out(period=Duration.minutes(5)))):
            alarm = metric.create_alarm(
                self, f"Runs{what.title().replace(' ', '')}", threshold=1, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"a run of {workflow} {what}: see `stepstone runs {workflow} --status failed`")
            alarm.add_alarm_action(notify)
            self.alarms.append(alarm)
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"stepstone-{workflow}", widgets=[[
            cloudwatch.GraphWidget(title=f"{workflow}: runs", width=12, left=[
                state_machine.metric_started(), state_machine.metric_succeeded(), state_machine.metric_failed(),
                state_machine.metric_timed_out()]),
            cloudwatch.GraphWidget(title=f"{workflow}: run time", width=12, left=[state_machine.metric_time()]),
        ], [
            cloudwatch.GraphWidget(title="step functions: errors and throttles", width=12,
                                   left=[m for f in functions for m in (f.metric_errors(), f.metric_throttles())]),
            cloudwatch.GraphWidget(title="step functions: duration", width=12,
                                   left=[f.metric_duration() for f in functions]),
        ]])
