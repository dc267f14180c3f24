#!/usr/bin/env python3
"""Replay recorded decisions: a thin wrapper of `costagent replay` (README: "From observe to execute").

    scripts/replay_decisions.py TRAIL.jsonl [costagent replay options]

e.g. `scripts/replay_decisions.py trail.jsonl --guardrails new-guardrails.json` or `... --model MODEL`.
The trail is what `costagent export` (or `costagent demo --export`) wrote; no AWS access is needed.
"""

from __future__ import annotations

import sys

from costagent.cli import main

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(["replay", "--trail", sys.argv[1], *sys.argv[2:]]))
