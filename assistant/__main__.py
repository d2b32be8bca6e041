"""``python -m assistant`` is the ``has-assistant`` command."""

from .cli import main

main()
