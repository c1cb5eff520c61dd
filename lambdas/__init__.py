"""The runtime: code that runs inside AWS (and, the same code, in the local target).

- ``runner``: runs one step: resolves its inputs (``inputs``), validates them, calls it,
  stores its output (``envelope``: inline or in the artifact store), writes its lineage,
  honours ``cache=True`` and reuses what a failed run finished;
- ``store``: the artifact store: a local folder or an S3 bucket, one interface;
- ``context``: the running step's context (``running_step``, ``save_artifact``);
- ``secrets``: ``Secret.value()``; ``faults``: injected faults (``STEPSTONE_FAULTS``);
- the entry points: ``step_runner`` (the Lambda handler and the AWS Batch entry point),
  ``approval`` (an approval gate's request), ``s3_trigger`` (the S3 relay);
- ``errors``: every exception of the runtime.

It imports only itself, the DSL and the protocol (``compiler/dsl``, ``compiler/protocol``):
never the compiler's passes, aws_cdk or the command line; boto3 only where AWS is called.
"""
