"""Observe -> review -> promote -> roll back, on an audit trail the demo recorded in observe mode.

The trail (tests/conftest.py `observed_trail`) comes from the real state machine on embedded AWS. Report
figures are checked against the records themselves and against what the demo's scenario makes happen;
replays run the real rules planner, or the real anthropic client against the local fake of the Messages
API; promotions run on moto (DynamoDB audit table, SSM mode parameter, STS identity).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from costagent.adapters.dynamodb import AuditStore
from costagent.cli import main
from costagent.config import LLM_ENVIRONMENT_NAMES, get_settings
from costagent.local.fake_claude import FakeClaude
from costagent.local.runner import EmbeddedAws
from costagent.local.world import build_world
from costagent.models import ActionRecord, CycleRecord, Mode, Outcome, TriggerKind
from costagent.planner.rules import RulesPlanner
from costagent.review.gate import GatePolicy, evaluate_gate
from costagent.review.html import render_html
from costagent.review.operator import Operator
from costagent.review.replay import replay_records
from costagent.review.report import build_report, render_text
from costagent.review.trail import TrailError, cycles, read_jsonl, write_jsonl
from tests.events import SAMPLE_EVENT_TIME

PIPELINE = "nightly-etl"
EXIT_REFUSED = 3


@pytest.fixture
def records(observed_trail: Path) -> list[CycleRecord]:
    return read_jsonl(observed_trail)


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No developer's Claude settings leak in; the CLI re-reads its settings in every test."""
    for name in (*LLM_ENVIRONMENT_NAMES.values(), "ANTHROPIC_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


# --- the trail -------------------------------------------------------------------------------------


def test_the_observed_trail_changed_nothing_and_kept_every_planned_state(records: list[CycleRecord]) -> None:
    planned = cycles(records)
    assert planned and all(r.mode is Mode.OBSERVE for r in planned)
    assert not [a for r in records for a in r.actions if a.status == "done"]
    assert all(r.replay is not None for r in planned if r.decision is not None)


def test_an_exported_trail_reads_back_record_for_record(records: list[CycleRecord], tmp_path: Path) -> None:
    path = tmp_path / "again.jsonl"
    write_jsonl(list(reversed(records)), path)
    assert read_jsonl(path) == records


def test_a_damaged_trail_line_is_named_with_its_number(observed_trail: Path, tmp_path: Path) -> None:
    lines = observed_trail.read_text().splitlines()
    lines[2] = lines[2][: len(lines[2]) // 2]
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("\n".join(lines) + "\n")
    with pytest.raises(TrailError, match=r"damaged.jsonl:3: not an audit record"):
        read_jsonl(damaged)


# --- report ----------------------------------------------------------------------------------------


def test_the_report_counts_what_the_records_hold(records: list[CycleRecord]) -> None:
    report = build_report(records, PIPELINE)
    planned = cycles(records)
    assert report.cycles == len(planned)
    assert report.decisions_by_action == dict(Counter(r.decision.action.value for r in planned if r.decision))
    assert sum(report.decisions_by_action.values()) == report.cycles
    # The demo's scenario: one planner outage, two interruption warnings, nothing clamped.
    assert report.planners["fallback"] == 1
    assert report.fallback_rate == pytest.approx(1 / report.cycles, abs=1e-4)
    assert report.fallback_reasons == {"plan_lambda_failed": 1}
    assert report.clamp_rate == 0.0 and report.clamp_rules == []
    assert report.modes == {"observe": report.cycles}
    latency = report.decision_latency
    assert latency.count == report.cycles
    assert latency.median_ms is not None and latency.p95_ms is not None and latency.max_ms is not None
    assert latency.median_ms <= latency.p95_ms <= latency.max_ms
    assert sum(count for _, count in latency.histogram) == latency.count


def test_the_report_lists_what_would_have_run_and_each_interruption(records: list[CycleRecord]) -> None:
    report = build_report(records, PIPELINE)
    would_run = [
        a for r in cycles(records) for a in r.actions if a.status == "would_run" and a.kind != "none"
    ]
    fast_path = [
        a for r in cycles(records) if r.checkpoint for a in r.checkpoint.actions if a.status == "would_run"
    ]
    assert sum(report.would_run_by_kind.values()) == len(would_run) + len(fast_path)
    assert "checkpoint" in report.would_run_by_kind
    assert [i.kind for i in report.interruptions] == ["interruption", "interruption"]
    assert all(i.checkpoint == "would_run" and i.in_time for i in report.interruptions)
    assert all(i.request_seconds is not None and i.request_seconds < 60 for i in report.interruptions)
    text = render_text(report)
    assert "interruptions:       2, checkpoint asked in time for 2" in text
    assert "would have run:" in text and "nothing changed" in text


def test_the_report_estimates_claude_tokens_and_dollars_per_day(records: list[CycleRecord]) -> None:
    """Claude's usage as a planner records it: 1,000 input and 100 output tokens on each of three cycles
    of two days, at Sonnet's list prices ($3 and $15 per million)."""
    from costagent.models import LlmUsage

    planned = [r for r in cycles(records) if r.decision is not None][:3]
    usage = LlmUsage(
        provider="anthropic",
        model="claude-sonnet-5",
        prompt_version="p",
        input_tokens=1000,
        output_tokens=100,
        latency_ms=900.0,
    )
    with_claude = [
        r.model_copy(
            update={"planner": "claude", "llm": usage, "cycle_time": r.cycle_time + timedelta(days=i // 2)}
        )
        for i, r in enumerate(planned)
    ]
    report = build_report(with_claude, PIPELINE)
    assert report.llm_calls == 3
    assert [(d.calls, d.input_tokens, d.output_tokens) for d in report.llm_days] == [
        (2, 2000, 200),
        (1, 1000, 100),
    ]
    per_call = (1000 * 3.0 + 100 * 15.0) / 1e6
    assert report.llm_estimated_usd == pytest.approx(3 * per_call)
    assert report.llm_usd_per_day == pytest.approx(1.5 * per_call, rel=1e-3)


def test_the_html_report_draws_charts_and_escapes_what_records_carry(records: list[CycleRecord]) -> None:
    hostile = records[0].model_copy(
        update={"instance_id": "<script>alert(1)</script>", "trigger": TriggerKind.INTERRUPTION}
    )
    page = render_html(build_report([hostile, *records[1:]], PIPELINE))
    assert page.startswith("<!doctype html>") and page.count("<svg") >= 3
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_report_from_a_file_prints_the_table_and_writes_html(
    observed_trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    assert main(["report", "--trail", str(observed_trail), "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"costagent report: pipeline {PIPELINE}")
    assert "decisions by action:" in out and "clamp rate:" in out
    assert "<svg" in page.read_text()


def test_report_of_an_empty_trail_says_it_holds_no_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["report", "--trail", str(empty)]) == 2
    assert "holds no audit records" in capsys.readouterr().err


def test_report_since_a_time_keeps_only_later_cycles(
    observed_trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--trail", str(observed_trail), "--since", "2026-12-03T02:00:00Z", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["first_cycle"] >= "2026-12-03T02:00:00"


def test_report_of_a_missing_file_says_so_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--trail", str(tmp_path / "none.jsonl")]) == 2
    assert "cannot read the trail" in capsys.readouterr().err


# --- replay ----------------------------------------------------------------------------------------


def test_replaying_the_rules_planner_on_its_own_trail_agrees_everywhere(records: list[CycleRecord]) -> None:
    report = replay_records(records, RulesPlanner(), "rules")
    assert report.replayed == len([r for r in cycles(records) if r.decision is not None])
    assert report.agreement_rate == 1.0 and report.changes == []


def test_a_replay_under_tighter_guardrails_changes_decisions_and_shows_both_reasonings(
    observed_trail: Path, records: list[CycleRecord], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded = next(r.replay for r in records if r.replay is not None)
    assert recorded is not None
    tighter = recorded.guardrails.model_copy(update={"max_instances": 3, "target_instances": 3})
    path = tmp_path / "tighter.json"
    path.write_text(tighter.model_dump_json())
    assert main(["replay", "--trail", str(observed_trail), "--guardrails", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["agreement_rate"] < 1.0
    assert "CHECKPOINT -> SCALE_DOWN" in report["action_changes"]
    change = next(c for c in report["changes"] if c["replayed"].startswith("SCALE_DOWN 3"))
    assert change["recorded_reasoning"] and change["replayed_reasoning"]
    assert change["recorded_reasoning"] != change["replayed_reasoning"]


def test_a_replay_through_claude_shows_its_new_clamp_triggers(
    observed_trail: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A model that asks for 500 instances every cycle: the replay shows the clamp rules it would trip."""
    with FakeClaude(default="count_500") as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-local-fake")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        code = main(
            [
                "replay",
                "--trail",
                str(observed_trail),
                "--since",
                "2026-12-03T03:00:00Z",
                "--model",
                "claude-haiku-5",
                "--json",
            ]
        )
        calls = fake.calls
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert calls == report["replayed"] > 0
    assert report["planner"].startswith("claude (claude-haiku-5")
    assert report["new_clamp_triggers"].get("count_bounds") == report["replayed"]
    assert report["agreement_rate"] < 1.0


def test_a_claude_replay_without_a_key_says_how_to_configure_it(
    observed_trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", "--trail", str(observed_trail), "--planner", "claude"]) == 2
    assert "Claude is not configured" in capsys.readouterr().err


def test_a_replay_with_another_prompt_version_is_refused_clearly(
    observed_trail: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", "--trail", str(observed_trail), "--prompt-version", "1999-01-01.1"]) == 2
    assert "is not the installed one" in capsys.readouterr().err


# --- gate and invariants (pure) --------------------------------------------------------------------


def test_the_gate_refuses_a_short_unsigned_observation_period(records: list[CycleRecord]) -> None:
    now = records[-1].cycle_time + timedelta(minutes=5)
    verdict = evaluate_gate(records, PIPELINE, now)
    failed = {c.name for c in verdict.failed()}
    assert failed == {"observation period", "observed cycles", "sign-off"}
    assert not verdict.violations


def test_an_action_done_in_observe_mode_is_an_invariant_violation(records: list[CycleRecord]) -> None:
    index = next(i for i, r in enumerate(records) if r.decision is not None and r.actions)
    broken = records[index].model_copy(
        update={
            "actions": [
                ActionRecord(kind="set_desired_capacity", target="costagent-nightly-etl", status="done")
            ]
        }
    )
    verdict = evaluate_gate(
        [*records[:index], broken, *records[index + 1 :]],
        PIPELINE,
        broken.cycle_time,
        GatePolicy(min_observation_days=0, min_cycles=0),
    )
    assert [v.invariant for v in verdict.violations] == ["observe_changed_nothing"]
    assert "invariants" in {c.name for c in verdict.failed()}


def test_an_observed_cycle_recorded_as_acted_is_one_violation_with_or_without_actions(
    records: list[CycleRecord],
) -> None:
    index = next(i for i, r in enumerate(records) if r.decision is not None and r.actions)
    done = ActionRecord(kind="set_desired_capacity", target="costagent-nightly-etl", status="done")
    policy = GatePolicy(min_observation_days=0, min_cycles=0)
    for actions, detail in (
        ([], "outcome acted in observe mode"),
        ([done], "action(s) done in observe mode"),
    ):
        broken = records[index].model_copy(update={"outcome": Outcome.ACTED, "actions": actions})
        verdict = evaluate_gate(
            [*records[:index], broken, *records[index + 1 :]], PIPELINE, broken.cycle_time, policy
        )
        assert [v.invariant for v in verdict.violations] == ["observe_changed_nothing"]
        assert detail in verdict.violations[0].detail


def test_an_interruption_whose_checkpoint_failed_keeps_the_gate_shut(records: list[CycleRecord]) -> None:
    index = next(i for i, r in enumerate(records) if r.trigger is TriggerKind.INTERRUPTION)
    warned = records[index]
    assert warned.checkpoint is not None
    failed = warned.checkpoint.model_copy(
        update={"actions": [a.model_copy(update={"status": "failed"}) for a in warned.checkpoint.actions]}
    )
    broken = warned.model_copy(update={"checkpoint": failed})
    verdict = evaluate_gate(
        [*records[:index], broken, *records[index + 1 :]],
        PIPELINE,
        broken.cycle_time,
        GatePolicy(min_observation_days=0, min_cycles=0),
    )
    check = next(c for c in verdict.checks if c.name == "interruptions checkpointed")
    assert not check.passed and "1 of 2" in check.detail


# --- promote and roll back (moto) ------------------------------------------------------------------


@pytest.fixture
def deployed(records: list[CycleRecord]) -> Iterator[EmbeddedAws]:
    """costagent on moto with the pipeline (mode observe) and the observed trail in its audit table."""
    with EmbeddedAws() as aws:
        build_world(aws, SAMPLE_EVENT_TIME, mode="observe")
        store = AuditStore(aws.settings.region, aws.settings.audit_table, client=aws.client("dynamodb"))
        for record in records:
            store.put(record)
        get_settings.cache_clear()
        yield aws


def _mode(aws: EmbeddedAws) -> str:
    name = aws.settings.mode_parameter(PIPELINE)
    return str(aws.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])


def _operator_records(aws: EmbeddedAws) -> list[CycleRecord]:
    store = AuditStore(aws.settings.region, aws.settings.audit_table, client=aws.client("dynamodb"))
    return [r for r in store.all_for(PIPELINE) if r.trigger is TriggerKind.OPERATOR]


def test_a_promotion_is_refused_then_granted_after_sign_off_and_rolled_back_at_once(
    deployed: EmbeddedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    relaxed = ["--min-observation-days", "0.1", "--min-cycles", "20"]
    # Refused: no review signed off yet (and the defaults ask for 14 days): the mode stays observe.
    assert main(["promote", "--pipeline", PIPELINE, "--to", "execute", "--by", "alice"]) == EXIT_REFUSED
    out = capsys.readouterr().out
    assert "REFUSED" in out and "[NO] sign-off" in out and "[NO] observation period" in out
    assert _mode(deployed) == "observe"

    assert main(["signoff", "--pipeline", PIPELINE, "--by", "alice", "--note", "read the report"]) == 0
    assert main(["promote", "--pipeline", PIPELINE, "--to", "execute", "--by", "bob", *relaxed]) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out and "thresholds relaxed below the defaults" in out
    assert _mode(deployed) == "execute"

    assert (
        main(["promote", "--pipeline", PIPELINE, "--to", "observe", "--by", "carol", "--note", "rollback"])
        == 0
    )
    assert _mode(deployed) == "observe"

    acts = _operator_records(deployed)
    assert [(r.operator.kind, r.outcome) for r in acts if r.operator] == [
        ("promote", Outcome.REFUSED),
        ("sign_off", Outcome.ACTED),
        ("promote", Outcome.ACTED),
        ("rollback", Outcome.ACTED),
    ]
    granted = acts[2].operator
    assert granted is not None and granted.gate is not None and granted.gate["passed"]
    assert "alice" in granted.gate["sign_off"]["by"] and "arn:aws:" in granted.by
    assert granted.gate["relaxed"]

    # The rollback starts a new observation period: the old cycles and sign-off no longer count.
    assert (
        main(["promote", "--pipeline", PIPELINE, "--to", "execute", "--by", "bob", *relaxed]) == EXIT_REFUSED
    )
    assert "0 cycles in observe mode" in capsys.readouterr().out
    assert _mode(deployed) == "observe"


def test_a_promotion_under_the_kill_switch_says_the_pipeline_still_observes(
    deployed: EmbeddedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.client("ssm").put_parameter(
        Name=deployed.settings.kill_switch_parameter, Value="on", Type="String", Overwrite=True
    )
    assert main(["signoff", "--pipeline", PIPELINE, "--by", "alice", "--note", "ok"]) == 0
    relaxed = ["--min-observation-days", "0.1", "--min-cycles", "20"]
    assert main(["promote", "--pipeline", PIPELINE, "--to", "execute", "--by", "bob", *relaxed]) == 0
    out = capsys.readouterr().out
    assert _mode(deployed) == "execute"
    assert "kill switch" in out and "stays in observe mode until it is set to off" in out


def test_the_report_reads_the_live_trail_with_the_operator_acts(
    deployed: EmbeddedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["signoff", "--pipeline", PIPELINE, "--by", "alice", "--note", "ok"])
    capsys.readouterr()
    assert main(["report", "--pipeline", PIPELINE]) == 0
    out = capsys.readouterr().out
    assert "operator actions:" in out and "sign_off by alice" in out


def test_export_writes_the_live_trail_that_the_file_commands_read(
    deployed: EmbeddedAws, records: list[CycleRecord], tmp_path: Path
) -> None:
    path = tmp_path / "exported.jsonl"
    assert main(["export", "--pipeline", PIPELINE, "--output", str(path)]) == 0
    assert read_jsonl(path) == records


def test_a_stale_sign_off_does_not_open_the_gate(deployed: EmbeddedAws, records: list[CycleRecord]) -> None:
    operator = Operator(
        deployed.settings,
        dynamodb=deployed.client("dynamodb"),
        ssm=deployed.client("ssm"),
        sts=deployed.client("sts"),
    )
    signed = records[-1].cycle_time
    operator.sign_off(PIPELINE, "alice", "reviewed", signed)
    change = operator.change_mode(
        PIPELINE,
        Mode.EXECUTE,
        "bob",
        "",
        signed + timedelta(days=8),
        GatePolicy(min_observation_days=0, min_cycles=0),
    )
    assert not change.granted and change.verdict is not None
    assert [c.name for c in change.verdict.failed()] == ["sign-off"]


def test_local_aws_serves_the_trail_to_the_operator_commands_through_aws_endpoint_url(
    observed_trail: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`costagent local-aws`: a moto server on 127.0.0.1 that the unchanged commands reach like AWS."""
    from costagent.config import Settings
    from costagent.local.aws_server import local_aws

    with local_aws(Settings(), observed_trail, port=0) as aws:
        assert aws.url.startswith("http://127.0.0.1:") and aws.pipelines == [PIPELINE]
        for name, value in aws.environment().items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        assert main(["promote", "--pipeline", PIPELINE, "--to", "execute", "--by", "alice"]) == EXIT_REFUSED
        assert main(["report", "--pipeline", PIPELINE, "--json"]) == 0
    out = capsys.readouterr().out
    figures = json.loads(out[out.index("{\n") :])
    assert figures["cycles"] == len(cycles(read_jsonl(observed_trail)))
    assert [a["outcome"] for a in figures["operator_actions"]] == ["refused"]


ROOT = Path(__file__).resolve().parents[2]


def test_the_seed_scripts_wrap_the_cli(observed_trail: Path, tmp_path: Path) -> None:
    """scripts/replay_decisions.py is `costagent replay --trail`; run_observation_mode.sh PIPELINE puts the
    pipeline in observe mode (recorded) and writes its report, here against `costagent local-aws`."""
    import os
    import subprocess
    import sys

    from costagent.config import Settings
    from costagent.local.aws_server import local_aws

    replay = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "replay_decisions.py"), str(observed_trail), "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(replay.stdout)["agreement_rate"] == 1.0
    with local_aws(Settings(), observed_trail, port=0) as aws:
        environment = {
            **os.environ,
            **aws.environment(),
            "OPERATOR": "dana",
            "COSTAGENT": str(Path(sys.executable).parent / "costagent"),
        }
        run = subprocess.run(
            ["bash", str(ROOT / "scripts" / "run_observation_mode.sh"), PIPELINE, "2026-12-01"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=environment,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        assert "mode observe -> observe" in run.stdout and "costagent report: pipeline" in run.stdout
        assert (tmp_path / f"observation-{PIPELINE}.html").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14d", "2026-11-20T12:00:00+00:00"),
        ("36h", "2026-12-03T00:00:00+00:00"),
        ("90m", "2026-12-04T10:30:00+00:00"),
        ("2026-12-01", "2026-12-01T00:00:00+00:00"),
        ("2026-12-01T06:00:00Z", "2026-12-01T06:00:00+00:00"),
    ],
)
def test_since_takes_a_duration_before_now_or_a_utc_date(text: str, expected: str) -> None:
    from datetime import datetime

    from costagent.review.trail import parse_since

    assert parse_since(text, datetime.fromisoformat("2026-12-04T12:00:00+00:00")).isoformat() == expected


def test_an_unreadable_since_says_what_it_takes() -> None:
    from datetime import datetime, timezone

    from costagent.review.trail import parse_since

    with pytest.raises(TrailError, match="give a duration such as 14d"):
        parse_since("last week", datetime.now(timezone.utc))


def test_loosened_thresholds_are_named_in_the_verdict(records: list[CycleRecord]) -> None:
    verdict = evaluate_gate(
        records, PIPELINE, records[-1].cycle_time, GatePolicy(min_observation_days=1, max_clamp_rate=0.5)
    )
    assert verdict.relaxed == ["min_observation_days 1 < 14", "max_clamp_rate 0.5 > 0.1"]
    assert GatePolicy().relaxed() == []


# --- what an operator can get wrong: one sentence on stderr, exit 2, nothing changed ----------------


def test_replay_names_an_unreadable_or_invalid_guardrails_file(
    observed_trail: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.json"
    assert main(["replay", "--trail", str(observed_trail), "--guardrails", str(missing)]) == 2
    assert f"cannot read guardrails file {missing}" in capsys.readouterr().err
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"allowed_instance_types": [], "max_instances": -1}))
    assert main(["replay", "--trail", str(observed_trail), "--guardrails", str(invalid)]) == 2
    assert f"guardrails file {invalid} is not valid" in capsys.readouterr().err


def test_a_trail_of_several_pipelines_needs_one_named(
    records: list[CycleRecord], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = [r.model_copy(update={"pipeline_id": "training"}) for r in records]
    both = tmp_path / "both.jsonl"
    write_jsonl([*records, *other], both)
    assert main(["report", "--trail", str(both)]) == 2
    assert "holds pipelines nightly-etl, training: name one with --pipeline" in capsys.readouterr().err
    assert main(["report", "--trail", str(both), "--pipeline", "training", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pipeline_id"] == "training"


def test_report_without_a_pipeline_or_a_trail_says_what_it_needs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report"]) == 2
    assert "name the pipeline (--pipeline ID)" in capsys.readouterr().err


def test_a_promotion_with_an_impossible_threshold_changes_and_records_nothing(
    deployed: EmbeddedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = [
        "promote",
        "--pipeline",
        PIPELINE,
        "--to",
        "execute",
        "--by",
        "bob",
        "--max-fallback-rate",
        "2",
    ]
    assert main(arguments) == 2
    assert "max_fallback_rate" in capsys.readouterr().err
    assert _mode(deployed) == "observe" and _operator_records(deployed) == []


def test_an_aws_error_is_one_sentence_and_the_mode_stays(
    deployed: EmbeddedAws, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.client("dynamodb").delete_table(TableName=deployed.settings.audit_table)
    assert main(["report", "--pipeline", PIPELINE]) == 2
    assert "dynamodb:Query" in capsys.readouterr().err
    assert main(["promote", "--pipeline", PIPELINE, "--to", "execute", "--by", "bob"]) == 2
    assert "dynamodb:Query" in capsys.readouterr().err
    assert _mode(deployed) == "observe"


def test_a_reader_that_stops_early_is_not_a_failure(observed_trail: Path) -> None:
    """`costagent report ... | head -1`: the closed pipe ends the command quietly with exit 0."""
    import subprocess
    import sys

    program = (
        "import sys; from costagent.cli import main; "
        f"sys.exit(main(['report', '--trail', {str(observed_trail)!r}, '--json']))"
    )
    process = subprocess.Popen(
        [sys.executable, "-u", "-c", program], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # nobody reads: the first write meets a broken pipe
    errors = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0, errors
    assert "Traceback" not in errors
