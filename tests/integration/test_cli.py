"""The `costagent` command line, in process: `run` on a sample event, `clamp` on files, and how it
answers input it cannot read (exit code 2 and one line on stderr)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from costagent.cli import EXIT_UNREADABLE_INPUT, main
from costagent.local.world import default_guardrails
from tests.events import event_path

RUN_KEYS = {"status", "states", "state", "decision", "clamps", "audit"}


@pytest.fixture(scope="module")
def interruption_run() -> tuple[int, dict[str, Any]]:
    """`costagent run --event events/spot-interruption-warning.json --json`, once for the module.

    Module scoped because the clamp tests need a real `state` from it and each run starts embedded AWS;
    that is also why stdout is captured with redirect_stdout (capsys is function scoped)."""
    printed = io.StringIO()
    with redirect_stdout(printed):
        code = main(["run", "--event", str(event_path("spot-interruption-warning")), "--json"])
    return code, json.loads(printed.getvalue())


def write(path: Path, content: Any) -> str:
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return str(path)


def test_run_on_an_interruption_warning_prints_the_cycle_with_the_checkpoint_first(
    interruption_run: tuple[int, dict[str, Any]],
) -> None:
    code, result = interruption_run

    assert code == 0
    assert result.keys() >= RUN_KEYS
    assert result["status"] == "SUCCEEDED"
    assert result["states"].index("CheckpointNow") < result["states"].index("PlanWithRules")
    assert result["audit"]["trigger"] == "interruption"
    assert result["audit"]["checkpoint"]["actions"][0]["status"] == "would_run"
    assert result["state"]["pipeline_id"] == "nightly-etl"


def test_clamp_bounds_an_oversized_proposal_by_the_guardrails(
    interruption_run: tuple[int, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the state `run --json` printed, and a proposal far outside the default guardrails
    _, result = interruption_run
    state = write(tmp_path / "state.json", result["state"])
    proposal = {"action": "SCALE_UP", "instance_count": 500, "instance_type": "x1.32xlarge"}
    decision = write(tmp_path / "decision.json", proposal)
    guardrails = default_guardrails()

    # when
    code = main(["clamp", "--state", state, "--decision", decision])

    # then
    assert code == 0
    clamped = json.loads(capsys.readouterr().out)
    running = len(result["state"]["active_instances"])
    assert clamped["decision"]["action"] == "SCALE_UP"
    assert clamped["decision"]["instance_type"] in guardrails.allowed_instance_types
    assert running < clamped["decision"]["instance_count"] <= running + guardrails.max_scale_step_instances
    assert clamped["decision"]["instance_count"] <= guardrails.max_instances
    rules = {clamp["rule"] for clamp in clamped["clamps"]}
    assert {"unknown_instance_type", "count_bounds", "scale_step"} <= rules


def test_clamp_turns_a_proposal_that_is_not_json_into_wait(
    interruption_run: tuple[int, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, result = interruption_run
    state = write(tmp_path / "state.json", result["state"])
    decision = write(tmp_path / "decision.txt", "Scale up a lot, the prices are great!")

    code = main(["clamp", "--state", state, "--decision", decision])

    assert code == 0
    clamped = json.loads(capsys.readouterr().out)
    assert clamped["decision"]["action"] == "WAIT"
    assert clamped["decision"]["instance_count"] == len(result["state"]["active_instances"])
    assert [clamp["rule"] for clamp in clamped["clamps"]][:1] == ["unreadable_proposal"]


@pytest.mark.parametrize(
    ("state_content", "message"),
    [
        (None, "cannot read state file"),
        ("{'pipeline_id': 'nightly-etl'", "is not JSON"),
        ({"pipeline_id": "nightly-etl"}, "is not a pipeline state"),
    ],
    ids=["missing", "not-json", "not-a-state"],
)
def test_clamp_with_an_unreadable_state_file_exits_2_with_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], state_content: Any, message: str
) -> None:
    # given
    state = tmp_path / "state.json"
    if state_content is not None:
        write(state, state_content)
    decision = write(tmp_path / "decision.json", {"action": "WAIT"})

    # when
    code = main(["clamp", "--state", str(state), "--decision", decision])

    # then
    assert code == EXIT_UNREADABLE_INPUT == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err.startswith("costagent clamp: ")
    assert message in printed.err
    assert str(state) in printed.err
    assert printed.err.count("\n") == 1
