"""Real workflows from the ML world, each compiled, golden-tested and runnable with ``python -m examples.<name>``."""
