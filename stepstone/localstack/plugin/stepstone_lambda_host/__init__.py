"""LocalStack plugin: Python Lambda functions run as host processes, not Docker containers.

Entry point ``localstack.lambda.runtime_executor`` / ``stepstone``, selected with
``LAMBDA_RUNTIME_EXECUTOR=stepstone``. ``executor.py`` runs inside LocalStack;
``worker.py`` runs under the functions' Python and uses the standard library only.
``stepfunctions.py`` fixes two gaps of LocalStack's Step Functions (a distributed Map's
results, JSONPath parsing time) when the executor loads.
"""
