"""The worker contract on moto: checkpoints are written objects-then-manifest-then-pointer, restores verify
every checksum, drills find corrupted and missing objects and record it, and the command line answers
with the documented exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from costagent.adapters.s3 import CheckpointStore
from costagent.cli import EXIT_UNREADABLE_INPUT, main
from costagent.errors import AwsUnavailable
from costagent.worker import WorkerClient, pending_checkpoint_request
from costagent.worker_cli import EXIT_NO_CHECKPOINT, EXIT_VERIFICATION_FAILED
from costagent.worker_contract import (
    CheckpointCorrupted,
    CheckpointIdTaken,
    CheckpointNotFound,
    CheckpointUnreadable,
    data_key,
    latest_checkpoint_key,
    latest_drill_key,
    manifest_key,
    sha256_hex,
)

REGION = "us-east-1"
BUCKET = "costagent-checkpoints"
PIPELINE = "etl"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh moto account with the checkpoint bucket; no test here may reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def worker(s3: Any) -> WorkerClient:
    return WorkerClient(BUCKET, PIPELINE, s3_client=s3, worker="i-0b1c2d3e4f5a60718")


def keys(s3: Any, prefix: str = "") -> list[str]:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(o["Key"] for o in listed)


def body(s3: Any, key: str) -> bytes:
    content: bytes = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return content


def checkpoint(worker: WorkerClient, checkpoint_id: str, minutes: int = 0, **files: bytes) -> None:
    contents: dict[str, bytes] = files or {"state.json": b'{"offset": 1}', "parts/part-0": b"rows 0-999"}
    worker.checkpoint_done(
        checkpoint_id,
        contents,
        progress=0.4,
        request=f"cmd-{checkpoint_id}",
        now=NOW + timedelta(minutes=minutes),
    )


def fail_puts_of(s3: Any, key: str) -> None:
    """S3 fails every PutObject of `key` from now on (as a network failure between two writes would)."""

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key") == key:
            raise ClientError(
                {"Error": {"Code": "ServiceUnavailable"}, "ResponseMetadata": {"HTTPStatusCode": 503}},
                "PutObject",
            )

    s3.meta.events.register("before-parameter-build.s3.PutObject", refuse)


# --- checkpoint_done ----------------------------------------------------------------------------


def test_checkpoint_done_uploads_objects_then_the_manifest_then_the_pointer(
    s3: Any, worker: WorkerClient, tmp_path: Path
) -> None:
    # given a local file and bytes to store, and every PutObject recorded in order
    local = tmp_path / "state.json"
    local.write_bytes(b'{"offset": 4200}')
    written: list[str] = []
    s3.meta.events.register(
        "before-parameter-build.s3.PutObject", lambda params, **_: written.append(params["Key"])
    )

    # when
    manifest = worker.checkpoint_done(
        "ckpt-1", {"state.json": local, "shards/0.bin": b"\x00\x01"}, progress=0.42, request="cmd-1", now=NOW
    )

    # then the objects come first, the manifest next, the pointer last
    assert written == [
        data_key(PIPELINE, "ckpt-1", "shards/0.bin"),
        data_key(PIPELINE, "ckpt-1", "state.json"),
        manifest_key(PIPELINE, "ckpt-1"),
        latest_checkpoint_key(PIPELINE),
    ]
    stored = json.loads(body(s3, manifest_key(PIPELINE, "ckpt-1")))
    assert stored["request"] == "cmd-1" and stored["worker"] == "i-0b1c2d3e4f5a60718"
    assert {o["key"]: (o["size"], o["sha256"]) for o in stored["objects"]} == {
        data_key(PIPELINE, "ckpt-1", "state.json"): (16, sha256_hex(b'{"offset": 4200}')),
        data_key(PIPELINE, "ckpt-1", "shards/0.bin"): (2, sha256_hex(b"\x00\x01")),
    }
    assert manifest.total_bytes == 18
    pointer = CheckpointStore(REGION, BUCKET, client=s3).latest_checkpoint(PIPELINE)  # what GatherState reads
    assert pointer is not None
    assert (pointer.checkpoint_id, pointer.time, pointer.progress) == ("ckpt-1", NOW, 0.42)
    assert (pointer.manifest_key, pointer.request) == (manifest_key(PIPELINE, "ckpt-1"), "cmd-1")


def test_a_failure_between_manifest_and_pointer_leaves_the_previous_checkpoint_latest(
    s3: Any, worker: WorkerClient
) -> None:
    # given a complete checkpoint, then S3 failing the pointer's write of the next one
    checkpoint(worker, "ckpt-1", **{"state.json": b"one"})
    fail_puts_of(s3, latest_checkpoint_key(PIPELINE))

    # when
    with pytest.raises(AwsUnavailable, match=r"latest\.json"):
        checkpoint(worker, "ckpt-2", minutes=5, **{"state.json": b"two"})

    # then the torn checkpoint's manifest exists, but the latest is still the previous one, and restores
    assert manifest_key(PIPELINE, "ckpt-2") in keys(s3)
    latest = CheckpointStore(REGION, BUCKET, client=s3).latest_checkpoint(PIPELINE)
    assert latest is not None and latest.checkpoint_id == "ckpt-1"
    assert worker.restore().contents == {"state.json": b"one"}


def test_rewriting_the_latest_checkpoint_is_refused(worker: WorkerClient) -> None:
    checkpoint(worker, "ckpt-1")

    with pytest.raises(CheckpointIdTaken, match="new id"):
        checkpoint(worker, "ckpt-1", minutes=5)


def test_a_file_name_that_climbs_out_of_the_checkpoint_is_refused(worker: WorkerClient) -> None:
    with pytest.raises(ValueError, match=r"'\.\.'"):
        worker.checkpoint_done("ckpt-1", {"../escape": b"x"}, progress=0.1, now=NOW)


# --- progress -----------------------------------------------------------------------------------


def test_progress_reports_read_back_through_the_adapter_gather_state_uses(
    s3: Any, worker: WorkerClient
) -> None:
    # given a first report with a start time, then one without
    worker.report_progress(0.1, started_at=NOW - timedelta(hours=1), now=NOW)
    fresh = WorkerClient(BUCKET, PIPELINE, s3_client=s3)  # a restarted worker process

    # when
    fresh.report_progress(0.25, now=NOW + timedelta(minutes=30))

    # then the start is kept and the document has the contract's shape
    report = CheckpointStore(REGION, BUCKET, client=s3).progress(PIPELINE)
    assert report is not None
    assert (report.progress, report.started_at, report.updated_at) == (
        0.25,
        NOW - timedelta(hours=1),
        NOW + timedelta(minutes=30),
    )
    assert set(json.loads(body(s3, f"pipelines/{PIPELINE}/progress.json"))) == {
        "pipeline_id",
        "progress",
        "started_at",
        "updated_at",
    }


# --- restore ------------------------------------------------------------------------------------


def test_restore_round_trips_every_byte_into_a_directory(worker: WorkerClient, tmp_path: Path) -> None:
    # given
    payload = bytes(range(256)) * 4096  # 1 MiB of every byte value
    worker.checkpoint_done(
        "ckpt-1", {"model/weights.bin": payload, "state.json": b"{}"}, progress=0.5, now=NOW
    )

    # when
    restored = worker.restore(tmp_path / "restore")

    # then
    assert restored.checkpoint_id == "ckpt-1"
    assert (tmp_path / "restore" / "model" / "weights.bin").read_bytes() == payload
    assert (tmp_path / "restore" / "state.json").read_bytes() == b"{}"
    assert sorted(p.name for p in (tmp_path / "restore").iterdir()) == [
        "model",
        "state.json",
    ]  # no staging left


def test_restore_of_a_named_checkpoint_returns_that_one(worker: WorkerClient) -> None:
    checkpoint(worker, "ckpt-1", **{"state.json": b"one"})
    checkpoint(worker, "ckpt-2", minutes=5, **{"state.json": b"two"})

    assert worker.restore(checkpoint_id="ckpt-1").contents == {"state.json": b"one"}
    assert worker.restore().contents == {"state.json": b"two"}


@pytest.mark.parametrize("damage", ["overwritten", "deleted"])
def test_a_damaged_object_makes_restore_fail_naming_it_and_leaves_the_directory_as_it_was(
    s3: Any, worker: WorkerClient, tmp_path: Path, damage: str
) -> None:
    # given a checkpoint one of whose objects is then damaged in S3
    checkpoint(worker, "ckpt-1")
    bad = data_key(PIPELINE, "ckpt-1", "parts/part-0")
    if damage == "overwritten":
        s3.put_object(Bucket=BUCKET, Key=bad, Body=b"rows 0-999 but not the same")
    else:
        s3.delete_object(Bucket=BUCKET, Key=bad)
    target = tmp_path / "restore"

    # when
    with pytest.raises(CheckpointCorrupted) as raised:
        worker.restore(target)

    # then
    assert [f.key for f in raised.value.failures] == [bad]
    assert bad in str(raised.value)
    assert list(target.iterdir()) == []


def test_restore_without_any_checkpoint_says_there_is_none(worker: WorkerClient) -> None:
    with pytest.raises(CheckpointNotFound, match="no checkpoint yet"):
        worker.restore()


def test_a_manifest_that_is_not_json_is_a_clear_error(s3: Any, worker: WorkerClient) -> None:
    # given
    checkpoint(worker, "ckpt-1")
    s3.put_object(Bucket=BUCKET, Key=manifest_key(PIPELINE, "ckpt-1"), Body=b'{"pipeline_id": "etl", "obj')

    # then
    with pytest.raises(CheckpointUnreadable, match=r"manifest .*ckpt-1/manifest.json is not JSON"):
        worker.restore()


# --- drills -------------------------------------------------------------------------------------


def test_a_drill_of_a_sound_checkpoint_records_ok_and_cleans_its_scratch_copies(
    s3: Any, worker: WorkerClient
) -> None:
    # given
    checkpoint(worker, "ckpt-1")

    # when
    record = worker.drill(now=NOW + timedelta(hours=1))

    # then
    assert record.ok and record.failures == [] and record.problem is None
    assert (record.checkpoint_id, record.objects_checked) == ("ckpt-1", 2)
    assert record.scratch_prefix == f"pipelines/{PIPELINE}/drills/scratch/20261203T130000Z/"
    assert record.last_success_time == NOW + timedelta(hours=1)
    assert keys(s3, record.scratch_prefix) == []
    assert keys(s3, f"pipelines/{PIPELINE}/drills/") == [
        f"pipelines/{PIPELINE}/drills/20261203T130000Z.json",
        latest_drill_key(PIPELINE),
    ]
    assert CheckpointStore(REGION, BUCKET, client=s3).last_drill(PIPELINE) == record


def test_a_drill_keeps_its_scratch_copies_when_asked(s3: Any, worker: WorkerClient) -> None:
    checkpoint(worker, "ckpt-1")

    record = worker.drill(now=NOW, keep_scratch=True)

    assert keys(s3, record.scratch_prefix) == [
        f"{record.scratch_prefix}parts/part-0",
        f"{record.scratch_prefix}state.json",
    ]


@pytest.mark.parametrize("damage", ["overwritten", "deleted"])
def test_a_drill_detects_a_damaged_object_and_records_it(s3: Any, worker: WorkerClient, damage: str) -> None:
    # given a drill that passed, then one object of the checkpoint damaged
    checkpoint(worker, "ckpt-1")
    worker.drill(now=NOW + timedelta(hours=1))
    bad = data_key(PIPELINE, "ckpt-1", "state.json")
    if damage == "overwritten":
        s3.put_object(Bucket=BUCKET, Key=bad, Body=b'{"offset": 2}')  # same size, other bytes
    else:
        s3.delete_object(Bucket=BUCKET, Key=bad)

    # when
    record = worker.drill(now=NOW + timedelta(hours=2))

    # then the drill fails, names the object, and the record keeps when a drill last passed
    assert not record.ok
    assert [(f.key, f.problem) for f in record.failures] == [
        (bad, "checksum_mismatch" if damage == "overwritten" else "missing")
    ]
    assert record.objects_checked == 2
    assert record.last_success_time == NOW + timedelta(hours=1)
    stored = CheckpointStore(REGION, BUCKET, client=s3).last_drill(PIPELINE)
    assert stored == record


def test_a_drill_without_a_checkpoint_fails_saying_so(worker: WorkerClient) -> None:
    record = worker.drill(now=NOW)

    assert not record.ok and record.checkpoint_id is None and record.last_success_time is None
    assert record.problem is not None and "has no checkpoint yet" in record.problem


def test_a_drill_of_a_checkpoint_whose_manifest_is_not_json_fails_naming_it(
    s3: Any, worker: WorkerClient
) -> None:
    # given
    checkpoint(worker, "ckpt-1")
    s3.put_object(Bucket=BUCKET, Key=manifest_key(PIPELINE, "ckpt-1"), Body=b"not json")

    # when
    record = worker.drill(now=NOW)

    # then
    assert not record.ok and record.checkpoint_id == "ckpt-1" and record.objects_checked == 0
    assert record.problem is not None and "ckpt-1/manifest.json is not JSON" in record.problem


# --- the command line ---------------------------------------------------------------------------


def cli(*args: str) -> int:
    return main([*args, "--pipeline", PIPELINE, "--bucket", BUCKET])


def test_the_worker_commands_report_checkpoint_restore_and_drill(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a worker's state: a file and a directory of parts
    (tmp_path / "state.json").write_text('{"offset": 7}')
    (tmp_path / "parts" / "a").mkdir(parents=True)
    (tmp_path / "parts" / "a" / "0.csv").write_text("x,y\n")

    # when
    reported = cli("worker", "progress", "--progress", "0.3", "--started-at", "2026-12-03T10:00:00Z")
    checkpoint_done = ["worker", "checkpoint-done", "--checkpoint-id", "ckpt-1", "--progress", "0.3"]
    done = cli(*checkpoint_done, "--request", "cmd-9", str(tmp_path / "state.json"), str(tmp_path / "parts"))
    restored = cli("worker", "restore", "--to", str(tmp_path / "restored"))
    drilled = cli("drill", "--json")

    # then
    assert (reported, done, restored, drilled) == (0, 0, 0, 0)
    assert (tmp_path / "restored" / "state.json").read_text() == '{"offset": 7}'
    assert (tmp_path / "restored" / "parts" / "a" / "0.csv").read_text() == "x,y\n"
    printed = capsys.readouterr().out
    assert "restored checkpoint ckpt-1" in printed
    drill = json.loads(printed[printed.index("{") :])
    assert drill["ok"] is True and drill["objects_checked"] == 2
    pointer = CheckpointStore(REGION, BUCKET, client=s3).latest_checkpoint(PIPELINE)
    assert pointer is not None and pointer.request == "cmd-9"


def test_checkpoint_done_of_a_missing_file_exits_2_and_writes_nothing(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(
        "worker", "checkpoint-done", "--checkpoint-id", "c1", "--progress", "0.3", str(tmp_path / "nope")
    )

    assert code == EXIT_UNREADABLE_INPUT
    assert "no such file" in capsys.readouterr().err
    assert keys(s3) == []


def test_a_progress_outside_0_to_1_exits_2(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("worker", "progress", "--progress", "42") == EXIT_UNREADABLE_INPUT
    assert "outside 0..1" in capsys.readouterr().err


def test_restore_and_drill_of_a_corrupted_checkpoint_exit_3_naming_the_object(
    s3: Any, worker: WorkerClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    checkpoint(worker, "ckpt-1")
    bad = data_key(PIPELINE, "ckpt-1", "state.json")
    s3.put_object(Bucket=BUCKET, Key=bad, Body=b"tampered")

    # when
    restored = cli("worker", "restore", "--to", str(tmp_path))
    error = capsys.readouterr().err
    drilled = cli("drill")

    # then
    assert (restored, drilled) == (EXIT_VERIFICATION_FAILED, EXIT_VERIFICATION_FAILED)
    assert error.count("\n") == 1 and bad in error and error.startswith("costagent worker restore:")
    assert bad in capsys.readouterr().out


def test_restore_without_a_checkpoint_exits_4(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("worker", "restore", "--to", str(tmp_path)) == EXIT_NO_CHECKPOINT
    assert "no checkpoint yet" in capsys.readouterr().err


def test_checkpoint_request_leaves_the_request_and_waits_for_the_checkpoint_that_answers_it(
    s3: Any, worker: WorkerClient, tmp_path: Path
) -> None:
    # given the worker already answered request cmd-7
    checkpoint(worker, "ckpt-7")  # request "cmd-ckpt-7"

    # when the SSM command runs on the instance
    code = cli(
        "worker", "checkpoint-request", "--request", "cmd-ckpt-7", "--spool", str(tmp_path), "--wait", "5"
    )

    # then the request is where the worker looks, and the command saw its checkpoint
    assert code == 0
    pending = pending_checkpoint_request(tmp_path, PIPELINE, handled=None)
    assert pending is not None and pending.request == "cmd-ckpt-7"
    assert pending_checkpoint_request(tmp_path, PIPELINE, handled="cmd-ckpt-7") is None


def test_checkpoint_request_that_nobody_answers_fails_after_its_wait(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(
        "worker", "checkpoint-request", "--request", "cmd-1", "--spool", str(tmp_path), "--wait", "0.01"
    )

    assert code == 1
    assert "no checkpoint answered request cmd-1" in capsys.readouterr().err
