"""`costagent backtest` on custom traces and a suite, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costagent.backtest.traces import DEFAULT_TRACES_DIR
from costagent.cli import main

MULTI = DEFAULT_TRACES_DIR / "cant-be-late-multi"


def test_custom_traces_print_every_policy_and_the_optimum_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(MULTI / zone / "3.json") for zone in ("us-east-1a_v100_1", "us-east-1c_v100_1")]
    argv = ["backtest", "--json", "--job-hours", "24", "--deadline-hours", "36", "--overhead-hours", "0.05"]
    for file in files:
        argv += ["--trace", file]

    assert main(argv) == 0

    results = {row["policy"]: row for row in json.loads(capsys.readouterr().out)["results"]}
    assert set(results) == {"on_demand", "greedy", "uniform_progress", "costagent_rules", "optimal"}
    assert all(set(row) == {"policy", "cost", "finish_hours", "met_deadline"} for row in results.values())
    assert all(row["met_deadline"] for row in results.values() if row["policy"] != "greedy")
    assert results["optimal"]["cost"] <= min(row["cost"] for row in results.values())


def test_custom_run_without_the_job_figures_says_which_are_missing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["backtest", "--trace", str(MULTI / "us-east-1a_v100_1" / "0.json"), "--job-hours", "24"])
    assert code == 2
    assert "--deadline-hours, --overhead-hours" in capsys.readouterr().err


def test_unreadable_trace_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "trace.json"
    bad.write_text("not json")
    argv = [
        "backtest",
        "--trace",
        str(bad),
        "--job-hours",
        "1",
        "--deadline-hours",
        "2",
        "--overhead-hours",
        "0",
    ]
    assert main(argv) == 2
    assert "not a trace file" in capsys.readouterr().err


def test_claude_without_a_key_is_reported_as_skipped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("COSTAGENT_LLM_PROVIDER", "anthropic")
    argv = ["backtest", "--json", "--policy", "costagent_claude", "--policy", "greedy", "--job-hours", "24"]
    argv += [
        "--deadline-hours",
        "36",
        "--overhead-hours",
        "0.05",
        "--trace",
        str(MULTI / "us-east-2a_v100_1/1.json"),
    ]

    assert main(argv) == 0

    document = json.loads(capsys.readouterr().out)
    assert {row["policy"] for row in document["results"]} == {"greedy", "optimal"}
    assert "not configured" in document["skipped"]["costagent_claude"]


def test_checkpointing_suite_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "--suite", "checkpointing"]) == 0
    out = capsys.readouterr().out
    assert "fixed_30min" in out and "adaptive" in out


def test_claude_runs_through_the_planner_interface_against_a_local_messages_api() -> None:
    # The real anthropic client, pointed at the loopback stand-in: one Messages API call per tick.
    from costagent.adapters.claude import make_claude_client
    from costagent.backtest.environment import Scenario, ZoneTrace, simulate
    from costagent.backtest.planner_policy import PlannerPolicy
    from costagent.config import LlmSettings
    from costagent.local.fake_claude import FakeClaude
    from costagent.planner.claude import ClaudePlanner

    zone = ZoneTrace("us-east-1a", tuple([True] * 6 + [False] * 3 + [True] * 30))
    run = Scenario((zone,), 600, 2 * 3600, 5 * 3600, 180)
    with FakeClaude() as fake:
        llm = LlmSettings(api_key="sk-local-fake", base_url=fake.base_url, max_retries=0)
        planner = ClaudePlanner.from_settings(make_claude_client(llm, region="us-east-1"), llm)
        result = simulate(run, PlannerPolicy(planner=planner, name="costagent_claude"))
        calls = fake.calls

    assert result.met_deadline
    assert calls > 0


def test_plot_of_a_custom_run_is_written(tmp_path: Path) -> None:
    plot = tmp_path / "timeline.png"
    argv = ["backtest", "--json", "--job-hours", "24", "--deadline-hours", "48", "--overhead-hours", "0.05"]
    argv += ["--trace", str(MULTI / "us-west-2a_v100_1" / "2.json"), "--plot", str(plot)]

    assert main(argv) == 0
    assert plot.read_bytes().startswith(b"\x89PNG")
