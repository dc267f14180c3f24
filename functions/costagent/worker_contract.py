"""The worker contract, pure: where a pipeline's progress, checkpoints and restore drills live in the
checkpoint bucket, what each document holds, and how a checkpoint's objects are verified. No I/O here;
`costagent.worker` (the API pipelines call) and `costagent.adapters.s3` do the reading and writing.

Layout under the checkpoint bucket (docs/worker-contract.md):
  pipelines/<id>/progress.json                           ProgressReport
  pipelines/<id>/checkpoints/<checkpoint>/manifest.json  Manifest: every object with its size and SHA-256
  pipelines/<id>/checkpoints/<checkpoint>/data/<name>    the checkpoint's objects (or keys it names)
  pipelines/<id>/checkpoints/latest.json                 CheckpointPointer, written after everything above
  pipelines/<id>/drills/<time>.json, drills/latest.json  DrillRecord
  pipelines/<id>/drills/scratch/<time>/<name>            where a drill restores to
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from costagent.errors import CostagentError

# Pipeline ids are key segments; the same rule as the scheduled event's pipeline_id (costagent.events).
PIPELINE_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
# A checkpoint id is one key segment too: no slashes, bounded so that data keys stay far below S3's 1,024.
CHECKPOINT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
SHA256_HEX_PATTERN = r"^[0-9a-f]{64}$"
S3_KEY_MAX_BYTES = 1024  # S3's limit on the length of a key (UTF-8 bytes)
OBJECT_NAME_MAX_BYTES = 512  # a relative name; leaves room for the pipeline and checkpoint prefix
TIME_SEGMENT_FORMAT = "%Y%m%dT%H%M%SZ"  # times inside keys: sortable, no colons


class WorkerContractError(CostagentError):
    """A checkpoint cannot be written or restored as the worker contract requires."""


class CheckpointNotFound(WorkerContractError):
    """There is no checkpoint to restore (none yet, or no manifest under the id asked for)."""


class CheckpointUnreadable(WorkerContractError):
    """The pointer or manifest exists but is not a valid document of this pipeline's checkpoint."""


class CheckpointIdTaken(WorkerContractError):
    """The checkpoint id asked for is the latest checkpoint; rewriting it would tear it."""


# --- the layout -----------------------------------------------------------------------------------


def pipeline_prefix(pipeline_id: str) -> str:
    return f"pipelines/{pipeline_id}/"


def progress_key(pipeline_id: str) -> str:
    return f"pipelines/{pipeline_id}/progress.json"


def latest_checkpoint_key(pipeline_id: str) -> str:
    return f"pipelines/{pipeline_id}/checkpoints/latest.json"


def checkpoint_prefix(pipeline_id: str, checkpoint_id: str) -> str:
    return f"pipelines/{pipeline_id}/checkpoints/{checkpoint_id}/"


def manifest_key(pipeline_id: str, checkpoint_id: str) -> str:
    return f"{checkpoint_prefix(pipeline_id, checkpoint_id)}manifest.json"


def data_prefix(pipeline_id: str, checkpoint_id: str) -> str:
    return f"{checkpoint_prefix(pipeline_id, checkpoint_id)}data/"


def data_key(pipeline_id: str, checkpoint_id: str, name: str) -> str:
    return f"{data_prefix(pipeline_id, checkpoint_id)}{valid_object_name(name)}"


def time_segment(time: datetime) -> str:
    return _utc(time).strftime(TIME_SEGMENT_FORMAT)


def latest_drill_key(pipeline_id: str) -> str:
    return f"pipelines/{pipeline_id}/drills/latest.json"


def drill_key(pipeline_id: str, time: datetime) -> str:
    return f"pipelines/{pipeline_id}/drills/{time_segment(time)}.json"


def drill_scratch_prefix(pipeline_id: str, time: datetime) -> str:
    return f"pipelines/{pipeline_id}/drills/scratch/{time_segment(time)}/"


def _utc(time: datetime) -> datetime:
    return time.replace(tzinfo=timezone.utc) if time.tzinfo is None else time.astimezone(timezone.utc)


# --- names ----------------------------------------------------------------------------------------


def valid_object_name(name: str) -> str:
    """A relative object name, checked: it becomes part of a key and, on restore, a path under a directory,
    so it may not climb out (`..`), start at the root, or hide in empty or `.` segments."""
    if not name or "\\" in name or "\x00" in name:
        raise ValueError(
            f"object name {name!r} is empty or holds a backslash or NUL; use '/'-separated names"
        )
    if len(name.encode("utf-8")) > OBJECT_NAME_MAX_BYTES:
        raise ValueError(f"object name {name[:40]!r}... is longer than {OBJECT_NAME_MAX_BYTES} bytes")
    parts = name.split("/")
    if name.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(
            f"object name {name!r} must be relative, without empty, '.' or '..' segments "
            "(e.g. 'state/part-0')"
        )
    return name


def valid_checkpoint_id(value: str) -> str:
    if not _matches(CHECKPOINT_ID_PATTERN, value):
        raise ValueError(
            f"checkpoint id {value!r} must be 1-128 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit (e.g. ckpt-20261203T1200)"
        )
    return value


def valid_pipeline_id(value: str) -> str:
    if not _matches(PIPELINE_ID_PATTERN, value):
        raise ValueError(f"pipeline id {value!r} must be 1-64 letters, digits, '.', '_' or '-'")
    return value


def _matches(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None


# --- documents ------------------------------------------------------------------------------------


class ProgressReport(BaseModel):
    """`progress.json`: how far the pipeline is, as its workers report it."""

    progress: float = Field(ge=0, le=1)
    updated_at: datetime
    started_at: datetime | None = None
    pipeline_id: str | None = None


class CheckpointPointer(BaseModel):
    """`checkpoints/latest.json`: which checkpoint is the latest complete one. Written last."""

    checkpoint_id: str
    time: datetime
    progress: float = Field(default=0.0, ge=0, le=1)
    manifest_key: str | None = None  # None in pointers written before manifests existed
    request: str | None = None  # the SSM command (or cycle) that asked for the checkpoint


class ManifestObject(BaseModel):
    key: str = Field(min_length=1)  # absolute key in the checkpoint bucket
    size: int = Field(ge=0)  # bytes
    sha256: str = Field(pattern=SHA256_HEX_PATTERN)  # of the object's bytes, lowercase hex

    @field_validator("key")
    @classmethod
    def _key_fits_s3(cls, key: str) -> str:
        if len(key.encode("utf-8")) > S3_KEY_MAX_BYTES:
            raise ValueError(f"key is longer than S3's {S3_KEY_MAX_BYTES} bytes")
        return key


class Manifest(BaseModel):
    """`checkpoints/<id>/manifest.json`: everything needed to restore and verify one checkpoint."""

    pipeline_id: str
    checkpoint_id: str = Field(pattern=CHECKPOINT_ID_PATTERN)
    time: datetime
    progress: float = Field(ge=0, le=1)
    worker: str | None = None  # who wrote it (instance id, host name)
    request: str | None = None  # the SSM command id or cycle id that asked for it
    objects: list[ManifestObject]

    @model_validator(mode="after")
    def _keys_unique(self) -> Manifest:
        keys = [o.key for o in self.objects]
        if len(keys) != len(set(keys)):
            duplicated = sorted({k for k in keys if keys.count(k) > 1})
            raise ValueError(f"objects name the same key twice: {', '.join(duplicated)}")
        return self

    @property
    def total_bytes(self) -> int:
        return sum(o.size for o in self.objects)

    def pointer(self, manifest_at: str) -> CheckpointPointer:
        return CheckpointPointer(
            checkpoint_id=self.checkpoint_id,
            time=self.time,
            progress=self.progress,
            manifest_key=manifest_at,
            request=self.request,
        )

    def restore_name(self, entry: ManifestObject) -> str:
        """Where an object goes under a restore directory: its name under the checkpoint's data prefix, or
        its whole key for objects the worker put elsewhere in the bucket."""
        prefix = data_prefix(self.pipeline_id, self.checkpoint_id)
        relative = entry.key[len(prefix) :] if entry.key.startswith(prefix) else entry.key
        try:
            return valid_object_name(relative)
        except ValueError as error:
            raise CheckpointUnreadable(
                f"checkpoint {self.checkpoint_id} names object key {entry.key!r}, which cannot be restored "
                f"safely: {error}"
            ) from error

    def restore_names(self) -> dict[str, str]:
        """Object key -> restore name, for every object; two objects may not restore to one name."""
        names = {entry.key: self.restore_name(entry) for entry in self.objects}
        if len(set(names.values())) != len(names):
            raise CheckpointUnreadable(
                f"checkpoint {self.checkpoint_id} has objects that would restore to the same name"
            )
        return names


Problem = Literal["missing", "size_mismatch", "checksum_mismatch"]


class ObjectFailure(BaseModel):
    key: str
    problem: Problem
    expected_size: int
    expected_sha256: str
    actual_size: int | None = None
    actual_sha256: str | None = None

    def describe(self) -> str:
        if self.problem == "missing":
            return f"{self.key} (missing)"
        if self.problem == "size_mismatch":
            return f"{self.key} (size {self.actual_size}, manifest says {self.expected_size})"
        actual = str(self.actual_sha256)[:12]
        return f"{self.key} (sha256 {actual}..., manifest says {self.expected_sha256[:12]}...)"


class DrillRecord(BaseModel):
    """`drills/latest.json` and `drills/<time>.json`: one restore drill and what it found."""

    pipeline_id: str
    checkpoint_id: str | None  # None when there was no checkpoint to restore
    time: datetime
    ok: bool
    objects_checked: int = Field(ge=0)
    failures: list[ObjectFailure] = Field(default_factory=list)
    problem: str | None = None  # a checkpoint-level problem: no pointer, unreadable manifest
    scratch_prefix: str
    bytes_checked: int = Field(default=0, ge=0)
    # Carried forward from the previous record while drills fail, so one read answers "when did a drill
    # last succeed?".
    last_success_time: datetime | None = None


@dataclass(frozen=True)
class ObservedObject:
    """What was actually read back for a manifest entry."""

    size: int
    sha256: str


class CheckpointCorrupted(WorkerContractError):
    """Objects of a checkpoint are missing or do not match the manifest's sizes and checksums."""

    def __init__(self, checkpoint: str, failures: list[ObjectFailure]) -> None:
        self.checkpoint_id = checkpoint
        self.failures = failures
        listed = "; ".join(f.describe() for f in failures)
        super().__init__(
            f"checkpoint {checkpoint} failed verification, {len(failures)} bad object(s): {listed}. "
            "Restore an earlier checkpoint by its id, and run `costagent drill` after the next one."
        )


# --- checksums and verification -------------------------------------------------------------------


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_object(expected: ManifestObject, observed: ObservedObject | None) -> ObjectFailure | None:
    """None when the object read back is the one the manifest describes; otherwise what is wrong."""
    problem: Problem
    if observed is None:
        problem = "missing"
    elif observed.size != expected.size:
        problem = "size_mismatch"
    elif observed.sha256 != expected.sha256:
        problem = "checksum_mismatch"
    else:
        return None
    return ObjectFailure(
        key=expected.key,
        problem=problem,
        expected_size=expected.size,
        expected_sha256=expected.sha256,
        actual_size=observed.size if observed else None,
        actual_sha256=observed.sha256 if observed else None,
    )


# --- parsing what is read back --------------------------------------------------------------------


def parse_manifest(body: bytes, key: str, pipeline: str, checkpoint: str | None = None) -> Manifest:
    """The manifest stored at `key`, or CheckpointUnreadable saying what is wrong with it."""
    try:
        raw = json.loads(body)
    except ValueError as error:
        raise CheckpointUnreadable(
            f"manifest {key} is not JSON ({error}); the checkpoint cannot be verified or restored"
        ) from error
    try:
        manifest = Manifest.model_validate(raw)
    except ValidationError as error:
        raise CheckpointUnreadable(
            f"manifest {key} is not a checkpoint manifest: {_first_error(error)}"
        ) from error
    if manifest.pipeline_id != pipeline or (checkpoint is not None and manifest.checkpoint_id != checkpoint):
        raise CheckpointUnreadable(
            f"manifest {key} describes checkpoint {manifest.checkpoint_id} of pipeline "
            f"{manifest.pipeline_id}, not {checkpoint or 'the latest'} of {pipeline}"
        )
    return manifest


def parse_pointer(body: bytes, key: str) -> CheckpointPointer:
    try:
        return CheckpointPointer.model_validate_json(body)
    except ValidationError as error:
        raise CheckpointUnreadable(f"checkpoint pointer {key} is not valid: {_first_error(error)}") from error


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))


# --- drills ---------------------------------------------------------------------------------------


def drill_record(
    *,
    pipeline: str,
    checkpoint: str | None,
    time: datetime,
    scratch_prefix: str,
    manifest: Manifest | None,
    failures: list[ObjectFailure],
    problem: str | None,
    previous: DrillRecord | None,
) -> DrillRecord:
    ok = manifest is not None and problem is None and not failures
    carried = previous.last_success_time if previous is not None else None
    return DrillRecord(
        pipeline_id=pipeline,
        checkpoint_id=checkpoint,
        time=time,
        ok=ok,
        objects_checked=len(manifest.objects) if manifest is not None else 0,
        failures=failures,
        problem=problem,
        scratch_prefix=scratch_prefix,
        bytes_checked=manifest.total_bytes if manifest is not None else 0,
        last_success_time=time if ok else carried,
    )
