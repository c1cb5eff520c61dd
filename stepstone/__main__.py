"""``python -m stepstone``: the command line."""

from .cli import main

main()
