"""The CDK app behind ``cdk deploy``: one construct per concern, rendering the compiler's
deployment plan (``compiler/deployment/plan.py``), never re-deriving anything from the
workflows or the ASL.

- ``settings``: which workflow files, for AWS or LocalStack, alarms, log level (cdk.json context);
- ``bundle``: the functions' code and dependencies and the Batch image context, made without Docker;
- ``artifacts``, ``runners``, ``workflow``, ``triggers``, ``gpu``, ``monitoring``: the constructs;
- ``stacks``: the shared stack and one stack per workflow file; ``nag``: cdk-nag and its reasons;
- ``app``: ``python -m cdk.app``, what cdk.json runs.
"""
