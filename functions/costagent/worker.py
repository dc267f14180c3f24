"""The API pipeline workers call (docs/worker-contract.md): report progress, finish a checkpoint, restore
one, run a restore drill. The same calls are on the command line as `costagent worker ...`.

    from costagent.worker import WorkerClient

    client = WorkerClient("my-checkpoint-bucket", "nightly-etl")
    client.report_progress(0.42)
    client.checkpoint_done("ckpt-0042", {"state.json": Path("/data/state.json")}, progress=0.42, request=cmd)
    restored = client.restore(Path("/data"))      # the latest checkpoint, every object verified

A checkpoint is complete only when `checkpoints/latest.json` names it, and that pointer is written after the
manifest and every object: a worker that dies half-way leaves the previous checkpoint as the latest.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from costagent.adapters.s3 import CheckpointStore
from costagent.worker_contract import (
    CheckpointCorrupted,
    CheckpointIdTaken,
    CheckpointNotFound,
    CheckpointPointer,
    CheckpointUnreadable,
    DrillRecord,
    Manifest,
    ManifestObject,
    ObjectFailure,
    ProgressReport,
    check_object,
    data_key,
    latest_checkpoint_key,
    manifest_key,
    parse_manifest,
    parse_pointer,
    progress_key,
    sha256_hex,
    valid_checkpoint_id,
    valid_object_name,
    valid_pipeline_id,
)

__all__ = [
    "CheckpointCorrupted",
    "CheckpointNotFound",
    "CheckpointRequest",
    "CheckpointUnreadable",
    "RestoreResult",
    "WorkerClient",
]

HASH_CHUNK_BYTES = 1024 * 1024  # local files are hashed in 1 MiB chunks: flat memory for any size
RESTORE_STAGING_PREFIX = ".costagent-restore-"  # objects land here first and move into place once all pass
CHECKPOINT_REQUEST_FILE = "checkpoint-request.json"
# Where `costagent worker checkpoint-request` leaves a request for the worker on the same instance. Not /tmp:
# a systemd service with PrivateTmp would not see the SSM agent's /tmp.
DEFAULT_SPOOL_DIR = Path("/var/tmp/costagent")
# The SSM agent runs a Run Command script from .../document/orchestration/<command-id>/... on Linux.
SSM_ORCHESTRATION_DIR = re.compile(
    r"/orchestration/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(/|$)"
)

FileSource = bytes | str | os.PathLike[str]  # bytes are the content; anything else names a local file


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class RestoreResult:
    """A restored, verified checkpoint: written under `directory`, or kept in `contents` when none."""

    manifest: Manifest
    directory: Path | None
    files: dict[str, Path] = field(default_factory=dict)  # relative name -> restored path
    contents: dict[str, bytes] = field(default_factory=dict)  # relative name -> bytes (no directory)

    @property
    def checkpoint_id(self) -> str:
        return self.manifest.checkpoint_id

    @property
    def request(self) -> str | None:
        return self.manifest.request


class WorkerClient:
    """One pipeline's side of the worker contract. The S3 client is created on first use unless given."""

    def __init__(
        self,
        bucket: str,
        pipeline_id: str,
        s3_client: Any = None,
        region: str | None = None,
        worker: str | None = None,
    ) -> None:
        if region is None and s3_client is None:
            from costagent.config import get_settings

            region = get_settings().region  # AWS_REGION, as for the Lambdas
        self.pipeline_id = valid_pipeline_id(pipeline_id)
        self.bucket = bucket
        self.worker = worker
        self.store = CheckpointStore(region or "us-east-1", bucket, client=s3_client)
        self._started_at: datetime | None = None

    # --- progress ------------------------------------------------------------------------------

    def report_progress(
        self, progress: float, started_at: datetime | None = None, now: datetime | None = None
    ) -> ProgressReport:
        """Write `progress.json`. Without `started_at`, the start already reported is kept (or now)."""
        now = now or _now()
        _check_progress(progress)
        if started_at is None:
            started_at = self._started_at or self._reported_start() or now
        self._started_at = started_at
        report = ProgressReport(
            pipeline_id=self.pipeline_id, progress=progress, started_at=started_at, updated_at=now
        )
        self.store.put_document(progress_key(self.pipeline_id), report)
        return report

    def _reported_start(self) -> datetime | None:
        previous = self.store.progress(self.pipeline_id)
        return previous.started_at if previous is not None else None

    # --- checkpoints ---------------------------------------------------------------------------

    def latest_checkpoint(self) -> CheckpointPointer | None:
        return self.store.latest_checkpoint(self.pipeline_id)

    def checkpoint_done(
        self,
        checkpoint_id: str,
        files: Mapping[str, FileSource],
        progress: float,
        request: str | None = None,
        now: datetime | None = None,
    ) -> Manifest:
        """Upload `files` (relative name -> bytes or a local path) under the checkpoint's data prefix, write
        the manifest with every object's size and SHA-256, then make it the latest. Files must not change
        while this runs. Returns the manifest."""
        now = now or _now()
        checkpoint = valid_checkpoint_id(checkpoint_id)
        _check_progress(progress)
        names = {valid_object_name(name): source for name, source in files.items()}
        latest = self.store.latest_checkpoint(self.pipeline_id)
        if latest is not None and latest.checkpoint_id == checkpoint:
            raise CheckpointIdTaken(
                f"checkpoint {checkpoint} is already the latest of {self.pipeline_id}; rewriting it would "
                "leave a torn latest checkpoint. Use a new id for every checkpoint."
            )
        objects = [
            self._upload(data_key(self.pipeline_id, checkpoint, n), s) for n, s in sorted(names.items())
        ]
        manifest = Manifest(
            pipeline_id=self.pipeline_id,
            checkpoint_id=checkpoint,
            time=now,
            progress=progress,
            worker=self.worker,
            request=request,
            objects=objects,
        )
        manifest_at = manifest_key(self.pipeline_id, checkpoint)
        self.store.put_document(manifest_at, manifest)
        # Last: only now is the checkpoint complete. A failure before here leaves the previous one latest.
        self.store.put_document(latest_checkpoint_key(self.pipeline_id), manifest.pointer(manifest_at))
        return manifest

    def _upload(self, key: str, source: FileSource) -> ManifestObject:
        if isinstance(source, bytes):
            self.store.put_bytes(key, source, content_type="application/octet-stream")
            return ManifestObject(key=key, size=len(source), sha256=sha256_hex(source))
        path = Path(source)
        size, digest = _hash_file(path)
        self.store.upload_file(key, path)
        return ManifestObject(key=key, size=size, sha256=digest)

    # --- restore -------------------------------------------------------------------------------

    def manifest(self, checkpoint_id: str | None = None) -> Manifest:
        """The manifest of `checkpoint_id`, or of the latest checkpoint (see `load_manifest`)."""
        return load_manifest(self.store, self.pipeline_id, checkpoint_id)

    def restore(
        self, target_dir: str | os.PathLike[str] | None = None, checkpoint_id: str | None = None
    ) -> RestoreResult:
        """Download the latest (or the named) checkpoint and verify every object against the manifest.

        With `target_dir`, objects are written under it by their relative names, and only once all of them
        passed: a failed restore leaves the directory as it was. Without, they come back in memory.
        Raises CheckpointNotFound, CheckpointUnreadable, or CheckpointCorrupted naming every bad object."""
        manifest = self.manifest(checkpoint_id)
        names = manifest.restore_names()
        if target_dir is None:
            return self._restore_in_memory(manifest, names)
        return self._restore_to(Path(target_dir), manifest, names)

    def _restore_in_memory(self, manifest: Manifest, names: dict[str, str]) -> RestoreResult:
        contents: dict[str, bytes] = {}
        failures: list[ObjectFailure] = []
        for entry in manifest.objects:
            buffer = io.BytesIO()
            failure = check_object(entry, self.store.read_object(entry.key, buffer))
            if failure is not None:
                failures.append(failure)
            contents[names[entry.key]] = buffer.getvalue()
        if failures:
            raise CheckpointCorrupted(manifest.checkpoint_id, failures)
        return RestoreResult(manifest=manifest, directory=None, contents=contents)

    def _restore_to(self, target: Path, manifest: Manifest, names: dict[str, str]) -> RestoreResult:
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(prefix=f"{RESTORE_STAGING_PREFIX}{manifest.checkpoint_id}-", dir=target)
        )
        try:
            failures: list[ObjectFailure] = []
            for entry in manifest.objects:
                staged = staging / names[entry.key]
                staged.parent.mkdir(parents=True, exist_ok=True)
                with staged.open("wb") as sink:
                    failure = check_object(entry, self.store.read_object(entry.key, sink))
                if failure is not None:
                    failures.append(failure)
            if failures:
                raise CheckpointCorrupted(manifest.checkpoint_id, failures)
            files: dict[str, Path] = {}
            for name in names.values():
                final = target / name
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / name, final)
                files[name] = final
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return RestoreResult(manifest=manifest, directory=target, files=files)

    # --- drills --------------------------------------------------------------------------------

    def drill(
        self, scratch_prefix: str | None = None, now: datetime | None = None, keep_scratch: bool = False
    ) -> DrillRecord:
        """Restore the latest checkpoint into a scratch prefix, verify it and record the result
        (`drills/latest.json`). Never raises for a failed verification: the record lists the failures."""
        from costagent.drill import run_drill

        return run_drill(
            self.store,
            self.pipeline_id,
            now=now or _now(),
            scratch_prefix=scratch_prefix,
            keep_scratch=keep_scratch,
        )


def load_manifest(store: CheckpointStore, pipeline: str, checkpoint: str | None = None) -> Manifest:
    """The manifest of `checkpoint`, or of the one `latest.json` names. CheckpointNotFound when there is
    none; CheckpointUnreadable when the pointer or the manifest is not a valid document of the pipeline."""
    if checkpoint is None:
        pointer_at = latest_checkpoint_key(pipeline)
        body = store.get_bytes(pointer_at)
        if body is None:
            raise CheckpointNotFound(
                f"pipeline {pipeline} has no checkpoint yet ({pointer_at} does not exist); "
                "start from the beginning"
            )
        pointer = parse_pointer(body, pointer_at)
        wanted = pointer.checkpoint_id
        manifest_at = pointer.manifest_key or manifest_key(pipeline, wanted)
    else:
        wanted = valid_checkpoint_id(checkpoint)
        manifest_at = manifest_key(pipeline, wanted)
    manifest_body = store.get_bytes(manifest_at)
    if manifest_body is None:
        if checkpoint is not None:
            raise CheckpointNotFound(
                f"pipeline {pipeline} has no checkpoint {wanted} ({manifest_at} does not exist)"
            )
        raise CheckpointUnreadable(
            f"the latest checkpoint {wanted} of {pipeline} has no manifest at {manifest_at}; "
            "restore an earlier checkpoint by its id"
        )
    return parse_manifest(manifest_body, manifest_at, pipeline, wanted)


def _check_progress(progress: float) -> None:
    if not 0.0 <= progress <= 1.0:
        raise ValueError(f"progress {progress} is outside 0..1; report the fraction of the job done")


def _hash_file(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as source:
        while chunk := source.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


# --- checkpoint requests on the instance ---------------------------------------------------------------


class CheckpointRequest(BaseModel):
    """What `costagent worker checkpoint-request` (the SSM command) leaves for the worker process."""

    pipeline_id: str
    request: str
    requested_at: datetime


def request_path(spool_dir: Path, pipeline: str) -> Path:
    return spool_dir / valid_pipeline_id(pipeline) / CHECKPOINT_REQUEST_FILE


def write_checkpoint_request(spool_dir: Path, pipeline: str, request: str, now: datetime) -> Path:
    """Leave a request for the worker; replaced atomically, so the worker never reads half a file."""
    path = request_path(spool_dir, pipeline)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = CheckpointRequest(pipeline_id=pipeline, request=request, requested_at=now)
    fd, temporary = tempfile.mkstemp(prefix=".request-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(document.model_dump_json())
    os.chmod(temporary, 0o644)  # the SSM agent runs as root; the worker usually does not
    os.replace(temporary, path)
    return path


def pending_checkpoint_request(
    spool_dir: Path, pipeline: str, handled: str | None
) -> CheckpointRequest | None:
    """The request waiting for this worker, unless it is the one it already handled. Requests are never
    deleted by the worker (it may not own the file); it remembers which one it answered."""
    try:
        request = CheckpointRequest.model_validate_json(request_path(spool_dir, pipeline).read_bytes())
    except (OSError, ValidationError):
        return None
    return request if request.request != handled else None


def ssm_command_id(working_directory: str) -> str | None:
    """The SSM Run Command id when the SSM agent runs us (it runs scripts from a directory named after the
    command); None otherwise. Best effort: pass `--request` where the command line can name it."""
    found = SSM_ORCHESTRATION_DIR.search(working_directory)
    return found.group(1) if found else None
