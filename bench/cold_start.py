"""Cold-start import time of each Lambda handler module.

Method: for each handler, start a fresh interpreter `REPEATS` times with `python -X importtime -c
"import <module>"` and sum the cumulative microseconds of the top-level imports that stderr reports
(what the Lambda runtime pays before the first invocation, minus interpreter start-up). Reports the
median and the slowest top-level imports of the median run. Run with `make bench`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

# The plan handler imports the anthropic SDK only when a pipeline plans with Claude (on first use):
# measured separately, as what a Claude pipeline's plan Lambda pays on its first invocation.
EXTRA = {
    "costagent.handlers.plan + anthropic": "costagent.handlers.plan, costagent.adapters.claude, anthropic",
}
HANDLERS = [
    "costagent.handlers.read_trigger",
    "costagent.handlers.checkpoint_now",
    "costagent.handlers.gather_state",
    "costagent.handlers.plan",
    "costagent.handlers.clamp",
    "costagent.handlers.execute",
    "costagent.handlers.record",
    "costagent.handlers.budget_stop",
]
REPEATS = 5


def measure(module: str) -> tuple[float, list[tuple[str, float]]]:
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {EXTRA.get(module, module)}"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "", "POWERTOOLS_TRACE_DISABLED": "true"},
    )
    top_level: list[tuple[str, float]] = []
    under_handler: list[tuple[str, float]] = []
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cumulative_us, raw_name = line[len("import time:") :].split("|")
        name = raw_name[1:]  # one space follows the bar; each level of nesting adds two more
        depth = (len(name) - len(name.lstrip(" "))) // 2
        if depth == 0:
            top_level.append((name.strip(), int(cumulative_us) / 1000.0))
        elif depth == 1:
            under_handler.append((name.strip(), int(cumulative_us) / 1000.0))
    total = sum(ms for _, ms in top_level)
    return total, sorted(under_handler, key=lambda item: -item[1])[:3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    results = {}
    for module in [*HANDLERS, *EXTRA]:
        runs = [measure(module) for _ in range(args.repeats)]
        runs.sort(key=lambda run: run[0])
        _, heaviest = runs[len(runs) // 2]
        results[module] = {
            "median_ms": round(statistics.median(r[0] for r in runs), 1),
            "heaviest_imports_ms": [(name, round(ms, 1)) for name, ms in heaviest],
        }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"cold-start import time per handler, median of {args.repeats} fresh interpreters "
        "(python -X importtime)"
    )
    for module, result in results.items():
        heaviest = ", ".join(f"{name} {ms:.0f} ms" for name, ms in result["heaviest_imports_ms"])
        print(f"  {module:<38} {result['median_ms']:>7.1f} ms   heaviest: {heaviest}")


if __name__ == "__main__":
    main()
