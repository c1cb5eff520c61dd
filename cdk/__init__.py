"""The CDK app behind ``cdk deploy``: one construct per concern, built from the compiler's
output (the ASL, the resources it names, the triggers), never from the graph again.

- ``settings``: which workflow files, for AWS or LocalStack, alarms, log level (cdk.json context);
- ``bundle``: the functions' code and dependencies and the Batch image context, made without Docker;
- ``artifacts``, ``runners``, ``workflow``, ``triggers``, ``gpu``, ``monitoring``: the constructs;
- ``stacks``: the shared stack and one stack per workflow file; ``nag``: cdk-nag and its reasons;
- ``app``: ``python -m cdk.app``, what cdk.json runs.
"""
