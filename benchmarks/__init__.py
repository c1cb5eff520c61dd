"""The performance suite: `python -m benchmarks` (see __main__.py). Not timed tests."""
