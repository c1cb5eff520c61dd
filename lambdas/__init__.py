"""Code that runs inside AWS (and, the same code, in the local target).

- ``runner``: runs one step: resolves its inputs, validates them, calls it, stores its
  output (inline or in the artifact store), writes its lineage, honours ``cache=True``.
- ``store``: the artifact store: a local folder or an S3 bucket, one interface.
- ``step_runner``: the Lambda handler and the AWS Batch entry point around ``runner``.

Nothing here imports aws_cdk or the command line; boto3 is imported only by the S3 store.
"""
