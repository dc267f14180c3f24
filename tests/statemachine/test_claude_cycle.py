"""Claude in the real cycle: statemachine/cycle.asl.json on embedded AWS, the plan Lambda calling
FakeClaude on 127.0.0.1 through the real `anthropic` client. Given a pipeline whose guardrails name
Claude, when cycles run, then the audit trail says who decided, what the call cost, when Claude's last
decision was reused, and a Claude outage never costs a cycle. The demo closes with the same figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from costagent.config import LLM_ENVIRONMENT_NAMES
from costagent.demo import DemoConfig, DemoReport, Interruption, run_demo
from costagent.local.fake_claude import FakeClaude
from costagent.local.runner import EmbeddedAws
from costagent.local.world import World, build_world, default_guardrails, scheduled_event, spot_event
from costagent.models import TriggerKind, ValidDecision
from costagent.prompt import PROMPT_VERSION
from costagent.reuse import REUSE_PROGRESS_DELTA
from tests.events import SAMPLE_EVENT_TIME, load_event
from tests.support import PIPELINE, audit_records, the_record

FAKE_API_KEY = "sk-ant-test-0000"
CLAUDE_CYCLE = [
    "ReceiveEvent",
    "ReadTrigger",
    "RouteTrigger",
    "GatherState",
    "LeaseAcquired",
    "ChoosePlanner",
    "PlanWithClaude",
    "ClampDecision",
    "ExecuteDecision",
    "RecordDecision",
    "CycleRecorded",
]
RULES_WAIT = ("WAIT", 4, "c5.xlarge", "spot")  # what the default world's rules recommend, and Claude too


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeClaude]:
    with FakeClaude() as fake:
        assert fake.base_url.startswith("http://127.0.0.1:")  # nothing here may leave the machine
        yield fake


def reset(fake: FakeClaude) -> FakeClaude:
    """As new: answers "ok", nothing scripted, no requests seen, nothing cached."""
    fake.reset()
    return fake


@pytest.fixture
def fake(fake_server: FakeClaude) -> FakeClaude:
    return reset(fake_server)


def without_ambient_claude_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*LLM_ENVIRONMENT_NAMES.values(), "ANTHROPIC_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def no_ambient_claude_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own ANTHROPIC_API_KEY or base URL must not leak into these tests."""
    without_ambient_claude_settings(monkeypatch)


@contextmanager
def claude_world(fake: FakeClaude, **environment: str) -> Iterator[World]:
    """The default world (4 of 4 spot workers, checkpointed 12 minutes ago, observe mode) with guardrails
    naming Claude, on embedded AWS whose plan Lambda reaches the fake with one retry."""
    lambda_environment = {
        "ANTHROPIC_API_KEY": FAKE_API_KEY,
        "ANTHROPIC_BASE_URL": fake.base_url,
        "COSTAGENT_LLM_MAX_RETRIES": "1",
        **environment,
    }
    with EmbeddedAws(extra_environment=lambda_environment) as aws:
        yield build_world(aws, SAMPLE_EVENT_TIME, guardrails=default_guardrails(planner="claude"))


@pytest.fixture
def world_with_claude(fake: FakeClaude) -> Iterator[World]:
    with claude_world(fake) as world:
        yield world


def minutes_later(minutes: int) -> dict[str, Any]:
    return scheduled_event(PIPELINE, SAMPLE_EVENT_TIME + timedelta(minutes=minutes))


def decision_of(record: dict[str, Any], world: World) -> tuple[Any, ...]:
    """The recorded decision, checked to be one the executor may act on within the guardrails."""
    decision = ValidDecision.model_validate(record["decision"])
    guardrails = world.guardrails
    assert decision.instance_type in guardrails.allowed_instance_types
    assert guardrails.min_instances <= decision.instance_count <= guardrails.max_instances
    return (
        decision.action.value,
        decision.instance_count,
        decision.instance_type,
        decision.capacity_type.value,
    )


def notices_sent(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The interruption and rebalance notices in the state Claude was shown."""
    message = request["messages"][0]["content"]
    start = message.index("<pipeline_state>") + len("<pipeline_state>")
    notices: list[dict[str, Any]] = json.loads(message[start : message.index("</pipeline_state>")])["notices"]
    return notices


# --- one cycle ----------------------------------------------------------------------------------


def test_pipeline_planning_with_claude_takes_plan_with_claude_and_records_the_call(
    world_with_claude: World, fake: FakeClaude
) -> None:
    aws = world_with_claude.aws

    # when
    report = aws.run(load_event("scheduled-event"))

    # then
    assert report.status == "SUCCEEDED"
    assert report.states == CLAUDE_CYCLE
    assert "PlanWithRules" not in report.states
    record = the_record(aws, report)
    assert (record["planner"], record["fallback_reason"], record["errors"]) == ("claude", None, {})
    assert decision_of(record, world_with_claude) == RULES_WAIT
    llm = record["llm"]
    assert (llm["provider"], llm["model"], llm["prompt_version"]) == (
        "anthropic",
        "claude-sonnet-5",
        PROMPT_VERSION,
    )
    assert llm["input_tokens"] > 0 and llm["output_tokens"] > 0
    assert llm["cache_creation_input_tokens"] > 0  # the system prompt and tool went into the cache
    assert llm["latency_ms"] > 0
    assert record["plan_fingerprint"]["model"] == "claude-sonnet-5"  # what the next cycle compares
    assert [request["model"] for request in fake.requests] == ["claude-sonnet-5"]


def test_claude_overloaded_on_every_attempt_still_succeeds_with_the_rules_decision_as_fallback(
    world_with_claude: World, fake: FakeClaude
) -> None:
    # given the API answers 529 to the first attempt and to its one retry
    fake.default = "overloaded"
    aws = world_with_claude.aws

    # when
    report = aws.run(load_event("scheduled-event"))

    # then the plan Lambda answered with the rules' decision: no failed state, no FallBackToRules
    assert report.status == "SUCCEEDED"
    assert report.states == CLAUDE_CYCLE
    assert fake.calls == 2
    record = the_record(aws, report)
    assert (record["planner"], record["fallback_reason"]) == ("fallback", "overloaded")
    assert record["plan_reason"].startswith("Claude unusable (overloaded: ")
    assert decision_of(record, world_with_claude) == RULES_WAIT
    assert (record["outcome"], record["errors"]) == ("no_op", {})
    assert record["llm"]["input_tokens"] == 0  # called, nothing billed


# --- reuse --------------------------------------------------------------------------------------


def test_steady_pipeline_reuses_claudes_wait_a_minute_later_without_calling_again(
    world_with_claude: World, fake: FakeClaude
) -> None:
    # given Claude decided WAIT at 12:00
    aws = world_with_claude.aws
    first = the_record(aws, aws.run(load_event("scheduled-event")))
    assert (first["planner"], first["decision"]["action"]) == ("claude", "WAIT")

    # when the next scheduled cycle runs at 12:01 with nothing changed
    report = aws.run(minutes_later(1))

    # then
    assert report.status == "SUCCEEDED"
    assert report.states == CLAUDE_CYCLE
    second = the_record(aws, report)
    assert (second["planner"], second["reused_from"]) == ("cached", first["cycle_id"])
    assert second["llm"] is None
    assert second["plan_reason"].startswith("reused Claude's decision: nothing material changed")
    assert decision_of(second, world_with_claude) == decision_of(first, world_with_claude)
    assert fake.calls == 1


def test_with_reuse_switched_off_every_scheduled_cycle_calls_claude(fake: FakeClaude) -> None:
    # given a plan Lambda with COSTAGENT_LLM_REUSE=false
    with claude_world(fake, COSTAGENT_LLM_REUSE="false") as world:
        aws = world.aws

        # when two cycles run a minute apart with nothing changed
        aws.run(load_event("scheduled-event"))
        aws.run(minutes_later(1))

        # then
        assert [r["planner"] for r in audit_records(aws, PIPELINE)] == ["claude", "claude"]
    assert fake.calls == 2


def test_interruption_warning_after_a_claude_wait_gets_a_fresh_claude_call(
    world_with_claude: World, fake: FakeClaude
) -> None:
    # given Claude decided WAIT at 12:00
    aws = world_with_claude.aws
    aws.run(load_event("scheduled-event"))
    victim = world_with_claude.instance_ids()[0]

    # when a spot interruption warning for one of the workers arrives a minute later
    warning = spot_event(
        "EC2 Spot Instance Interruption Warning", victim, SAMPLE_EVENT_TIME + timedelta(minutes=1)
    )
    report = aws.run(warning)

    # then the checkpoint fast path ran, and Claude was asked again instead of reusing its WAIT
    assert report.status == "SUCCEEDED"
    assert "CheckpointNow" in report.states and "PlanWithClaude" in report.states
    record = the_record(aws, report)
    assert record["trigger"] == "interruption"
    assert (record["planner"], record["reused_from"]) == ("claude", None)
    assert fake.calls == 2
    assert [n["instance"] for n in notices_sent(fake.requests[-1])] == [victim]


# --- the demo -----------------------------------------------------------------------------------

# The brief's demo runs a 1.5-hour job; with the demo's default 5-minute cycles its progress moves
# 5.6 % per cycle, more than REUSE_PROGRESS_DELTA, so no cycle could ever reuse. 4-minute cycles move
# it 4.4 %, which leaves reuse something to do.
SHORT_CLAUDE_DEMO = DemoConfig(
    hours=1.5,
    cycle_minutes=4,
    planner="claude",
    interruptions=(Interruption(30, 1),),
    price_spike=None,
    planner_outage_minute=None,
)


@contextmanager
def demo_against(fake: FakeClaude) -> Iterator[None]:
    """run_demo's plan Lambda takes its Claude settings from this process's environment."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        without_ambient_claude_settings(monkeypatch)
        monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_API_KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        monkeypatch.setenv("COSTAGENT_LLM_MAX_RETRIES", "1")
        yield


def run_claude_demo(fake: FakeClaude, *, llm_reuse: bool) -> tuple[DemoReport, int]:
    """The short demo with Claude answering text only to its first call; (report, requests Claude saw)."""
    reset(fake).script("text_only")
    with demo_against(fake):
        report = run_demo(replace(SHORT_CLAUDE_DEMO, llm_reuse=llm_reuse))
    return report, fake.calls


@pytest.fixture(scope="module")
def demo_with_reuse(fake_server: FakeClaude) -> tuple[DemoReport, int]:
    return run_claude_demo(fake_server, llm_reuse=True)


@pytest.fixture(scope="module")
def demo_without_reuse(fake_server: FakeClaude) -> tuple[DemoReport, int]:
    return run_claude_demo(fake_server, llm_reuse=False)


@pytest.mark.slow
def test_short_claude_demo_counts_every_call_and_records_the_text_only_fallback(
    demo_with_reuse: tuple[DemoReport, int],
) -> None:
    report, requests_seen = demo_with_reuse
    figures = report.llm_figures()

    # every request Claude saw is a call in the audit trail, with its tokens
    assert figures["llm_calls"] == requests_seen > 0
    assert figures["input_tokens_per_call_median"] > 0
    assert figures["cache_read_tokens_total"] > 0
    # the text-only answer to the first call was answered by the rules, and recorded as such
    assert figures["fallbacks_by_reason"] == {"text_only": 1}
    first = report.records[0]
    assert (first.planner, first.fallback_reason) == ("fallback", "text_only")
    assert {"claude", "fallback"} <= set(report.planners())
    # every cycle decided, none failed, and the interruption got a fresh decision
    assert all(r.decision is not None for r in report.records)
    assert "failed" not in report.outcomes()
    interruptions = [r for r in report.records if r.trigger is TriggerKind.INTERRUPTION]
    assert [r.planner for r in interruptions] == ["claude"]
    assert report.agent.finished_minute is not None


@pytest.mark.slow
def test_reuse_lowers_the_share_of_demo_cycles_that_call_claude(
    demo_with_reuse: tuple[DemoReport, int], demo_without_reuse: tuple[DemoReport, int]
) -> None:
    # given a job whose progress moves less per cycle than reuse tolerates
    assert SHORT_CLAUDE_DEMO.cycle_minutes / (SHORT_CLAUDE_DEMO.hours * 60) < REUSE_PROGRESS_DELTA
    with_reuse, requests_with_reuse = demo_with_reuse
    without_reuse, requests_without_reuse = demo_without_reuse

    # then
    reused, fresh = with_reuse.llm_figures(), without_reuse.llm_figures()
    assert reused["reused"] > 0 and fresh["reused"] == 0
    assert reused["share_of_cycles_calling_llm"] < fresh["share_of_cycles_calling_llm"] == 1.0
    assert requests_with_reuse < requests_without_reuse
    assert reused["planned_cycles"] == fresh["planned_cycles"]  # the same scenario, cycle for cycle
