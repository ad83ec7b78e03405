"""``python -m benchmarks NAME [ARGS]``: the same as ``assistant bench NAME [ARGS]``."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:], prog="python -m benchmarks"))
