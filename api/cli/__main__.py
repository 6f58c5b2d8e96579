"""``python -m api.cli``: the ``sift`` command."""

from api.cli import main

main()
