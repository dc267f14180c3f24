"""The demo's machinery on a short scenario: the agent checkpoints, survives interruptions, replaces lost
capacity and moves away from a price spike, through the real state machine; the baseline does none of it."""

from __future__ import annotations

from costagent.demo import DemoConfig, Interruption, PriceSpike, run_demo

SHORT = DemoConfig(
    hours=2.0,
    cycle_minutes=5,
    workers=4,
    interruptions=(Interruption(40, 1), Interruption(85, 0)),
    price_spike=PriceSpike(50, 110, "c5.xlarge", 0.21),
    planner_outage_minute=60,
)


def test_short_demo_loses_less_work_and_finishes_sooner_than_no_agent() -> None:
    report = run_demo(SHORT)
    agent, baseline = report.agent, report.baseline

    assert agent.finished_minute is not None
    assert baseline.finished_minute is None or agent.finished_minute < baseline.finished_minute
    assert agent.lost_minutes < baseline.lost_minutes
    assert agent.checkpoints > 0 and baseline.checkpoints == 0
    assert report.interruptions_survived() == 2
    decisions = report.decisions_by_action()
    assert decisions.get("SCALE_UP", 0) >= 1  # lost capacity replaced
    assert decisions.get("MIGRATE", 0) >= 1  # away from the spiking pool
    assert report.planners().get("fallback") == 1  # the planner outage cycle
    assert "failed" not in report.outcomes()
    # the worker contract end to end: each interrupted worker's replacement restored the checkpoint that the
    # agent asked for on the interruption warning, and every restore resumed its shard exactly
    restores = report.restore_figures()
    assert restores["after_interruption"] == 2
    assert restores["after_interruption_from_the_warnings_checkpoint"] == 2
    assert (
        restores["from_agent_requested_checkpoint"] == restores["work_restored_exactly"] == restores["total"]
    )
    assert report.drill is not None and report.drill.ok and report.drill.objects_checked == 4
    rendered = report.render()
    assert "lost compute minutes" in rendered and "clamps by rule" in rendered
    assert "2 replaced interrupted workers, 2 from the checkpoint their interruption warning" in rendered
