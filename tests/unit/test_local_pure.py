"""Pure parts of the local runner: rendering the ASL template and the spot market's answers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from costagent.local.runner import FUNCTIONS, render_definition, state_machine_path
from costagent.local.spot_market import SpotMarket

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def test_every_placeholder_in_the_state_machine_is_a_known_function() -> None:
    values = {
        placeholder: f"arn:aws:lambda:us-east-1:1:function:{name}"
        for name, (_, placeholder) in FUNCTIONS.items()
    }
    definition = json.loads(render_definition(state_machine_path().read_text(), values))
    assert "${" not in json.dumps(definition)
    assert definition["StartAt"] == "ReceiveEvent"


def test_a_missing_placeholder_value_is_an_error() -> None:
    with pytest.raises(KeyError, match="plan_function_arn"):
        render_definition('{"Resource": "${plan_function_arn}"}', {})


def test_every_lambda_task_retries_lambda_service_errors_and_catches_everything() -> None:
    definition = json.loads(state_machine_path().read_text())
    tasks = {name: state for name, state in definition["States"].items() if state["Type"] == "Task"}
    assert tasks
    for name, task in tasks.items():
        retried = {error for retry in task["Retry"] for error in retry["ErrorEquals"]}
        assert "Lambda.ServiceException" in retried and "Lambda.TooManyRequestsException" in retried, name
        assert task["Catch"][0]["ErrorEquals"] == ["States.ALL"], name
        assert task["ResultPath"].startswith("$."), name  # keeps the accumulated document


def test_spot_market_answers_with_the_price_in_force_at_start_and_the_changes_after() -> None:
    market = SpotMarket()
    for hours_ago, price in ((30, 0.05), (10, 0.06), (2, 0.07)):
        market.set_price("c5.xlarge", "us-east-1a", NOW - timedelta(hours=hours_ago), price)
    history = market.history(["c5.xlarge"], None, NOW - timedelta(hours=24), NOW)
    assert [float(str(entry["SpotPrice"])) for entry in history] == [0.07, 0.06, 0.05]  # newest first
    assert market.price_at("c5.xlarge", "us-east-1a", NOW - timedelta(hours=5)) == 0.06
    assert market.history(["m5.xlarge"], None, None, None) == []
