"""The worker contract's pure parts: checksums, verification of what was read back, manifest validation,
object names, drill records, and how a worker finds a checkpoint request on its instance."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from costagent.worker import pending_checkpoint_request, ssm_command_id, write_checkpoint_request
from costagent.worker_contract import (
    CheckpointCorrupted,
    CheckpointUnreadable,
    DrillRecord,
    Manifest,
    ManifestObject,
    ObservedObject,
    check_object,
    data_key,
    drill_record,
    parse_manifest,
    sha256_hex,
    valid_checkpoint_id,
    valid_object_name,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # of b"", by FIPS 180-2
ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # of b"abc"


def manifest_document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "pipeline_id": "etl",
        "checkpoint_id": "ckpt-1",
        "time": "2026-12-03T12:00:00Z",
        "progress": 0.5,
        "request": "cmd-1",
        "objects": [{"key": data_key("etl", "ckpt-1", "state.json"), "size": 3, "sha256": ABC_SHA256}],
    }
    document.update(changes)
    return document


def entry(size: int = 3, sha256: str = ABC_SHA256) -> ManifestObject:
    return ManifestObject(key="pipelines/etl/checkpoints/ckpt-1/data/state.json", size=size, sha256=sha256)


# --- checksums and verification ------------------------------------------------------------------


def test_sha256_is_the_lowercase_hex_digest_of_the_bytes() -> None:
    assert sha256_hex(b"") == EMPTY_SHA256
    assert sha256_hex(b"abc") == ABC_SHA256


@pytest.mark.parametrize(
    ("observed", "problem"),
    [
        (ObservedObject(size=3, sha256=ABC_SHA256), None),
        (None, "missing"),
        (ObservedObject(size=4, sha256=ABC_SHA256), "size_mismatch"),
        (ObservedObject(size=3, sha256=EMPTY_SHA256), "checksum_mismatch"),
    ],
    ids=["matches", "missing", "other-size", "other-bytes"],
)
def test_an_object_read_back_is_checked_by_size_then_checksum(
    observed: ObservedObject | None, problem: str | None
) -> None:
    failure = check_object(entry(), observed)

    assert (failure.problem if failure else None) == problem


def test_a_corrupted_checkpoint_error_names_every_bad_object_in_one_sentence() -> None:
    failures = [f for f in (check_object(entry(), None), check_object(entry(size=9), None)) if f]

    error = CheckpointCorrupted("ckpt-1", failures)

    assert str(error).startswith("checkpoint ckpt-1 failed verification, 2 bad object(s): ")
    assert str(error).count("state.json (missing)") == 2
    assert "\n" not in str(error)


# --- manifests ----------------------------------------------------------------------------------


def test_a_valid_manifest_parses_and_its_pointer_names_it() -> None:
    manifest = parse_manifest(json.dumps(manifest_document()).encode(), "k", "etl", "ckpt-1")

    pointer = manifest.pointer("pipelines/etl/checkpoints/ckpt-1/manifest.json")

    assert manifest.total_bytes == 3 and manifest.restore_names() == {manifest.objects[0].key: "state.json"}
    assert (pointer.checkpoint_id, pointer.time, pointer.request) == ("ckpt-1", NOW, "cmd-1")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"pipeline_id": "etl", "obj', "is not JSON"),
        (b"[]", "is not a checkpoint manifest"),
        (
            json.dumps(manifest_document(objects=[{"key": "k", "size": 1, "sha256": "ABC"}])).encode(),
            "sha256",
        ),
        (
            json.dumps(manifest_document(objects=[{"key": "k", "size": -1, "sha256": ABC_SHA256}])).encode(),
            "size",
        ),
        (
            json.dumps(
                manifest_document(objects=[{"key": "k", "size": 1, "sha256": ABC_SHA256}] * 2)
            ).encode(),
            "the same key twice",
        ),
        (json.dumps(manifest_document(pipeline_id="other")).encode(), "of pipeline other, not ckpt-1 of etl"),
        (json.dumps(manifest_document(checkpoint_id="ckpt-2")).encode(), "describes checkpoint ckpt-2"),
    ],
    ids=[
        "torn",
        "not-an-object",
        "bad-checksum",
        "negative-size",
        "duplicate-key",
        "other-pipeline",
        "other-id",
    ],
)
def test_a_manifest_that_is_not_this_checkpoints_is_unreadable_with_the_reason(
    body: bytes, message: str
) -> None:
    with pytest.raises(CheckpointUnreadable, match=message):
        parse_manifest(body, "pipelines/etl/checkpoints/ckpt-1/manifest.json", "etl", "ckpt-1")


def test_objects_outside_the_data_prefix_restore_under_their_whole_key() -> None:
    manifest = Manifest.model_validate(
        manifest_document(objects=[{"key": "shared/lookup.parquet", "size": 3, "sha256": ABC_SHA256}])
    )

    assert manifest.restore_names() == {"shared/lookup.parquet": "shared/lookup.parquet"}


def test_a_manifest_key_that_would_climb_out_of_the_restore_directory_is_unreadable() -> None:
    manifest = Manifest.model_validate(
        manifest_document(objects=[{"key": "../../etc/cron.d/x", "size": 3, "sha256": ABC_SHA256}])
    )

    with pytest.raises(CheckpointUnreadable, match="cannot be restored safely"):
        manifest.restore_names()


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "/etc/passwd", "a/../b", "a//b", "./a", "a\\b", "x" * 600])
def test_object_names_that_are_not_plain_relative_paths_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        valid_object_name(name)


@pytest.mark.parametrize("checkpoint", ["", "a/b", "-leading-dash", "x" * 129, "with space"])
def test_checkpoint_ids_that_are_not_one_key_segment_are_refused(checkpoint: str) -> None:
    with pytest.raises(ValueError, match="checkpoint id"):
        valid_checkpoint_id(checkpoint)


# --- drill records ------------------------------------------------------------------------------


def drill(ok: bool, time: datetime, previous: DrillRecord | None) -> DrillRecord:
    manifest = Manifest.model_validate(manifest_document())
    failures = [] if ok else [f for f in [check_object(manifest.objects[0], None)] if f]
    return drill_record(
        pipeline="etl",
        checkpoint="ckpt-1",
        time=time,
        scratch_prefix="s/",
        manifest=manifest,
        failures=failures,
        problem=None,
        previous=previous,
    )


def test_a_failed_drill_keeps_the_time_of_the_last_one_that_passed() -> None:
    passed = drill(True, NOW, previous=None)
    failed = drill(False, NOW + timedelta(days=1), previous=passed)
    failed_again = drill(False, NOW + timedelta(days=2), previous=failed)

    assert passed.ok and passed.last_success_time == NOW
    assert not failed.ok and failed.objects_checked == 1
    assert failed_again.last_success_time == NOW


# --- checkpoint requests on the instance --------------------------------------------------------


def test_a_checkpoint_request_is_pending_until_the_worker_has_handled_it(tmp_path: Path) -> None:
    assert pending_checkpoint_request(tmp_path, "etl", handled=None) is None

    write_checkpoint_request(tmp_path, "etl", "cmd-1", NOW)
    pending = pending_checkpoint_request(tmp_path, "etl", handled=None)

    assert pending is not None and (pending.request, pending.requested_at) == ("cmd-1", NOW)
    assert pending_checkpoint_request(tmp_path, "etl", handled="cmd-1") is None
    assert pending_checkpoint_request(tmp_path, "other", handled=None) is None


def test_the_ssm_command_id_is_read_from_the_ssm_agents_working_directory() -> None:
    command = "0e3b3a8c-4c7d-4f5e-9a1b-2c3d4e5f6a7b"
    ssm_dir = f"/var/lib/amazon/ssm/i-0b1c2d3e4f5a60718/document/orchestration/{command}/awsrunShellScript/0"

    assert ssm_command_id(ssm_dir) == command
    assert ssm_command_id("/home/etl") is None
