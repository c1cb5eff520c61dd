# expect-rule: secret-literal
# expect-line: 17
# expect-message: the default of parameter 'signing_pem' looks like a private key; defaults go into every run's input, its schedules and trigger rules, in clear
"""A private key as a parameter's default (the name passes: it is the value that gives it away)."""
from stepstone import step, workflow


@step
def sign(day: str, signing_pem: str) -> str:
    return day


@workflow
def sign_report(
    day: str = "2024-06-02",
    # the header alone is enough to tell
    signing_pem: str = "-----BEGIN RSA PRIVATE KEY-----\nMIIB...\n-----END RSA PRIVATE KEY-----",
) -> str:
    return sign(day, signing_pem)
