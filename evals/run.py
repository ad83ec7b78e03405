"""Run an evaluation (the same flags as ``assistant eval``; see assistant/evaluation.py).

    python evals/run.py --retrieval-only
    python evals/run.py --set xquad --limit 200 --retrieval-only
    python evals/run.py --compare evals/results/A.json evals/results/B.json
"""

import sys
from pathlib import Path

# Run from anywhere: the checkout's root holds the assistant package and evals/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.evaluation import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
