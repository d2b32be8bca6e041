"""``python -m assistant`` is the ``has-assistant`` command."""

from assistant.interfaces.cli import main

main()
