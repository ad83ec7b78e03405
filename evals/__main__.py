"""``python -m evals ...``: the same flags as ``assistant eval`` (see evals/README.md)."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:], prog="python -m evals"))
