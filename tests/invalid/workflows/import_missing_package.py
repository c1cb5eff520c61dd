# expect-rule: import-error
# expect-line: 5
# expect-message: importing import_missing_package.py failed: ModuleNotFoundError: No module named 'company_feature_store'
"""A workflow file that imports a package that is not installed where stepstone runs."""
from company_feature_store import load_features

from stepstone import step, workflow


@step
def features(day: str) -> str:
    return load_features(day)


@workflow
def nightly(day: str) -> str:
    return features(day)
