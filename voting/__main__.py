"""``python -m voting tally --ballots B.jsonl --method ID [--seats K] [--score-range 0:5] [--json]``."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
