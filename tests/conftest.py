"""Shared fixtures: embedded AWS (the real state machine on moto, in process) and the default world.

Each EmbeddedAws costs about a second to start, so the fixtures are function scoped (every test gets a
fresh account) and tests that need no pipeline ask for `embedded` alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from botocore.loaders import JSONFileLoader

from costagent.local.runner import EmbeddedAws
from costagent.local.world import World, build_world
from tests.events import SAMPLE_EVENT_TIME


@pytest.fixture(scope="session", autouse=True)
def botocore_data_parsed_once() -> Iterator[None]:
    """Parse each botocore data file (service models, endpoints) once per test run, not once per mock.

    moto starts a new default boto3 session for every mock (each EmbeddedAws, each mock_aws), and every
    new session parses the service models again, megabytes of JSON for EC2 alone: about 40 % of the
    runtime of the moto-backed tests. botocore already hands one parsed document to every client of a
    session and treats it as read-only; the one in-place change it makes (merging `sdk-extras`) sets
    the same keys each time, so sharing documents between sessions is invisible to the code under test.
    """
    parse = JSONFileLoader.load_file
    parsed: dict[str, Any] = {}

    def load_file(loader: JSONFileLoader, file_path: str) -> Any:
        if file_path not in parsed:
            parsed[file_path] = parse(loader, file_path)
        return parsed[file_path]

    with mock.patch.object(JSONFileLoader, "load_file", load_file):
        yield


@pytest.fixture
def embedded() -> Iterator[EmbeddedAws]:
    """A whole costagent deployment on moto, with no pipeline yet."""
    with EmbeddedAws() as aws:
        yield aws


@pytest.fixture
def world(embedded: EmbeddedAws) -> World:
    """Pipeline "nightly-etl" in observe mode: 4 of 4 spot workers, checkpointed 12 minutes ago."""
    return build_world(embedded, SAMPLE_EVENT_TIME, mode="observe")


@pytest.fixture
def world_execute(embedded: EmbeddedAws) -> World:
    """The same pipeline in execute mode: decisions change the Auto Scaling group and message workers."""
    return build_world(embedded, SAMPLE_EVENT_TIME, mode="execute")


@pytest.fixture(scope="session")
def observed_trail(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An audit trail recorded by the demo in observe mode, exported as `costagent export` writes it.

    Two hours of work on four spot workers (observing, the agent never replaces anyone, so the run goes on
    to the demo's limit of four hours): two interruption warnings, a price spike and one cycle whose plan
    Lambda fails. About 10 s, once per test run.
    """
    from costagent.demo import DemoConfig, Interruption, PriceSpike, run_demo
    from costagent.review.trail import write_jsonl

    config = DemoConfig(
        hours=2.0,
        mode="observe",
        interruptions=(Interruption(35, 1), Interruption(70, 0)),
        price_spike=PriceSpike(60, 90, "c5.xlarge", 0.2100),
        planner_outage_minute=50,
    )
    report = run_demo(config)
    path = tmp_path_factory.mktemp("trail") / "observed.jsonl"
    write_jsonl(report.records, path)
    return path
