"""examples/worker.py keeps the worker contract on moto: it answers a checkpoint request left by the SSM
command, and a replacement worker resumes from exactly that checkpoint and finishes the job correctly."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from costagent.adapters.s3 import CheckpointStore
from costagent.cli import main
from costagent.worker import WorkerClient

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "worker.py"
REGION = "us-east-1"
BUCKET = "costagent-checkpoints"
PIPELINE = "etl"
ITEMS = 300


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_worker", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_a_replacement_worker_resumes_from_the_checkpoint_the_request_asked_for(
    example: ModuleType, s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: while the worker rests after its 40th item, the agent's SSM command runs on the instance
    spool = tmp_path / "spool"
    steps: list[int] = []

    def sleep(seconds: float) -> None:
        steps.append(1)
        if len(steps) == 40:
            command = ["worker", "checkpoint-request", "--pipeline", PIPELINE, "--request", "cmd-1"]
            assert main([*command, "--spool", str(spool)]) == 0

    monkeypatch.setattr(example, "time", SimpleNamespace(sleep=sleep))

    # when the worker is interrupted 25 items later, and a replacement starts on another instance
    first = example.run(
        WorkerClient(BUCKET, PIPELINE, s3_client=s3), tmp_path / "a", spool, ITEMS, max_steps=65
    )
    replacement = example.run(WorkerClient(BUCKET, PIPELINE, s3_client=s3), tmp_path / "b", spool, ITEMS)

    # then the replacement restored the requested checkpoint (40 items done) and the job's result is exact
    pointer = CheckpointStore(REGION, BUCKET, client=s3).latest_checkpoint(PIPELINE)
    assert pointer is not None and pointer.request == "cmd-1" and pointer.checkpoint_id.endswith("-40")
    assert (first.resumed_from, first.next_item) == (None, 65)
    assert replacement.resumed_from == pointer.checkpoint_id
    assert (replacement.next_item, replacement.total) == (ITEMS, sum(i * i for i in range(ITEMS)))
    progress = CheckpointStore(REGION, BUCKET, client=s3).progress(PIPELINE)
    assert progress is not None and progress.progress == 1.0
