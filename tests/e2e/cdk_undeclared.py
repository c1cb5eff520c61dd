"""A step that imports pandas, in a file that declares no packages: deployed, its function
has no pandas, on LocalStack as on AWS, and the run fails saying where to declare it
(tests/e2e/test_cdk_packages.py)."""

from __future__ import annotations

import pandas as pd

from stepstone import step, workflow


@step
def rows(count: int) -> int:
    return len(pd.DataFrame({"x": range(count)}))


@workflow
def undeclared(count: int = 3) -> int:
    return rows(count)
