"""S3: what workers report (progress), their checkpoints (manifests, objects, the latest pointer) and the
restore drills' records. The layout and the documents are the worker contract, `costagent.worker_contract`:

  pipelines/<id>/progress.json                    {"pipeline_id", "progress", "started_at", "updated_at"}
  pipelines/<id>/checkpoints/<ckpt>/manifest.json {"pipeline_id", "checkpoint_id", "time", "objects", ...}
  pipelines/<id>/checkpoints/latest.json          {"checkpoint_id", "time", "progress", "manifest_key"}
  pipelines/<id>/drills/latest.json               {"checkpoint_id", "time", "ok", "failures", ...}

GatherState reads `progress.json` and `latest.json` every cycle; a torn or foreign document reads as absent.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, BinaryIO

from botocore.exceptions import ClientError
from pydantic import BaseModel, ValidationError

from costagent.adapters.aws import LazyClient, aws_call, error_code
from costagent.errors import AwsRequestRejected
from costagent.worker_contract import (
    CheckpointPointer,
    DrillRecord,
    Manifest,
    ObservedObject,
    ProgressReport,
    latest_checkpoint_key,
    latest_drill_key,
    manifest_key,
    progress_key,
)

__all__ = [
    "CheckpointPointer",
    "CheckpointStore",
    "ProgressReport",
    "latest_checkpoint_key",
    "progress_key",
]

MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
READ_CHUNK_BYTES = 1024 * 1024  # objects are hashed while streamed; 1 MiB keeps memory flat for any size
SINGLE_COPY_MAX_BYTES = 5 * 1024**3  # S3 CopyObject's limit; larger objects are copied in parts
DELETE_BATCH_OBJECTS = 1000  # S3 DeleteObjects takes at most 1,000 keys per request
JSON_CONTENT_TYPE = "application/json"


class CheckpointStore(LazyClient):
    service = "s3"

    def __init__(self, region: str, bucket: str, client: Any = None) -> None:
        super().__init__(region, client)
        self.bucket = bucket

    # --- documents -----------------------------------------------------------------------------

    def get_bytes(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        with aws_call(f"s3:GetObject {key}"):
            try:
                body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except ClientError as error:
                if error_code(error) in MISSING_OBJECT_CODES:
                    return None
                raise
        return body

    def _read_json(self, key: str) -> Any | None:
        body = self.get_bytes(key)
        if body is None:
            return None
        try:
            return json.loads(body)
        except ValueError:
            return None  # a torn or foreign object is treated as absent; the state says so

    def _read_model(self, key: str, model: type[BaseModel]) -> Any | None:
        raw = self._read_json(key)
        try:
            return model.model_validate(raw) if raw is not None else None
        except ValidationError:
            return None

    def progress(self, pipeline_id: str) -> ProgressReport | None:
        found: ProgressReport | None = self._read_model(progress_key(pipeline_id), ProgressReport)
        return found

    def latest_checkpoint(self, pipeline_id: str) -> CheckpointPointer | None:
        found: CheckpointPointer | None = self._read_model(
            latest_checkpoint_key(pipeline_id), CheckpointPointer
        )
        return found

    def manifest(self, pipeline_id: str, checkpoint_id: str) -> Manifest | None:
        """The checkpoint's manifest; None when it is missing, torn or not a manifest."""
        found: Manifest | None = self._read_model(manifest_key(pipeline_id, checkpoint_id), Manifest)
        return found

    def last_drill(self, pipeline_id: str) -> DrillRecord | None:
        """The latest restore drill's record (`last_success_time` says when one last passed), or None."""
        found: DrillRecord | None = self._read_model(latest_drill_key(pipeline_id), DrillRecord)
        return found

    def write_json(self, key: str, document: Any) -> None:
        self.put_bytes(key, json.dumps(document, default=str).encode("utf-8"))

    def put_document(self, key: str, document: BaseModel) -> None:
        self.put_bytes(key, document.model_dump_json(exclude_none=False).encode("utf-8"))

    # --- objects -------------------------------------------------------------------------------

    def put_bytes(self, key: str, body: bytes, content_type: str = JSON_CONTENT_TYPE) -> None:
        with aws_call(f"s3:PutObject {key}"):
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def upload_file(self, key: str, path: Path) -> None:
        """A local file of any size (the managed transfer switches to multipart for large ones)."""
        from boto3.exceptions import S3UploadFailedError

        with aws_call(f"s3:PutObject {key}"):
            try:
                self.client.upload_file(str(path), self.bucket, key)
            except S3UploadFailedError as error:  # the managed transfer wraps the ClientError in a message
                raise AwsRequestRejected(f"s3:PutObject {key} failed: {error}") from error

    def read_object(self, key: str, sink: BinaryIO | None = None) -> ObservedObject | None:
        """Stream the object into `sink` (or nowhere), hashing it; None when there is no such object."""
        digest, size = hashlib.sha256(), 0
        with aws_call(f"s3:GetObject {key}"):
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            except ClientError as error:
                if error_code(error) in MISSING_OBJECT_CODES:
                    return None
                raise
            for chunk in body.iter_chunks(READ_CHUNK_BYTES):
                digest.update(chunk)
                size += len(chunk)
                if sink is not None:
                    sink.write(chunk)
        return ObservedObject(size=size, sha256=digest.hexdigest())

    def copy_object(self, source_key: str, target_key: str, size_bytes: int) -> bool:
        """Copy within the bucket, server side; False when the source does not exist."""
        source = {"Bucket": self.bucket, "Key": source_key}
        with aws_call(f"s3:CopyObject {source_key} -> {target_key}"):
            try:
                if size_bytes <= SINGLE_COPY_MAX_BYTES:
                    self.client.copy_object(Bucket=self.bucket, Key=target_key, CopySource=source)
                else:
                    self.client.copy(source, self.bucket, target_key)
            except ClientError as error:
                if error_code(error) in MISSING_OBJECT_CODES:
                    return False
                raise
        return True

    def delete_objects(self, keys: list[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH_OBJECTS):
            batch = keys[start : start + DELETE_BATCH_OBJECTS]
            with aws_call(f"s3:DeleteObjects ({len(batch)} keys)"):
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
                )
