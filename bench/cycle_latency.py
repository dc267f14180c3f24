"""Per-cycle latency without the LLM, on embedded AWS.

Method: one EmbeddedAws world (the default pipeline, 4 workers, observe mode); one warm-up execution,
then `CYCLES` scheduled executions one simulated minute apart. Reports the median and p95 wall time of a
whole execution (start to final state, as the runner sees it) and the median latency each handler
recorded for its own step in the audit record. Wall times include moto's interpreter and serialisation,
so they bound what AWS would take from above only loosely; the per-step handler latencies are the part
costagent controls. Run with `make bench`.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta, timezone

from costagent.local.runner import EmbeddedAws
from costagent.local.world import build_world, scheduled_event

CYCLES = 30
START = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)]


def main() -> None:
    with EmbeddedAws() as aws:
        world = build_world(aws, START)
        aws.run(scheduled_event(world.pipeline_id, START))
        walls: list[float] = []
        steps: dict[str, list[float]] = {}
        for minute in range(1, CYCLES + 1):
            report = aws.run(scheduled_event(world.pipeline_id, START + timedelta(minutes=minute)))
            walls.append(report.wall_seconds)
            record = (report.output or {}).get("audit")
            assert report.status == "SUCCEEDED" and record, report.error
            for step in ("trigger", "gathered", "plan", "clamped", "executed"):
                latency = ((report.output or {}).get(step) or {}).get("latency_ms")
                if latency is not None:
                    steps.setdefault(step, []).append(float(latency))
    print(f"per-cycle latency on embedded AWS, {CYCLES} scheduled cycles, rules planner, observe mode")
    print(
        f"  execution wall time: median {statistics.median(walls) * 1000:.0f} ms, "
        f"p95 {percentile(walls, 0.95) * 1000:.0f} ms"
    )
    for step, values in steps.items():
        print(
            f"  {step:<9} handler: median {statistics.median(values):.1f} ms, "
            f"p95 {percentile(values, 0.95):.1f} ms"
        )


if __name__ == "__main__":
    main()
