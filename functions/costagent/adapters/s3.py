"""S3: what workers report (progress) and the latest checkpoint manifest pointer.

Layout under the checkpoint bucket (the worker contract):
  pipelines/<id>/progress.json            {"pipeline_id", "progress", "started_at", "updated_at"}
  pipelines/<id>/checkpoints/latest.json  {"checkpoint_id", "time", "progress"}
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field, ValidationError

from costagent.adapters.aws import LazyClient, aws_call, error_code


class ProgressReport(BaseModel):
    progress: float = Field(ge=0, le=1)
    updated_at: datetime
    started_at: datetime | None = None


class CheckpointPointer(BaseModel):
    checkpoint_id: str
    time: datetime
    progress: float = Field(default=0.0, ge=0, le=1)


def progress_key(pipeline_id: str) -> str:
    return f"pipelines/{pipeline_id}/progress.json"


def latest_checkpoint_key(pipeline_id: str) -> str:
    return f"pipelines/{pipeline_id}/checkpoints/latest.json"


class CheckpointStore(LazyClient):
    service = "s3"

    def __init__(self, region: str, bucket: str, client: Any = None) -> None:
        super().__init__(region, client)
        self.bucket = bucket

    def _read_json(self, key: str) -> Any | None:
        with aws_call(f"s3:GetObject {key}"):
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except ClientError as error:
                if error_code(error) in ("NoSuchKey", "404"):
                    return None
                raise
        try:
            return json.loads(body)
        except ValueError:
            return None  # a torn or foreign object is treated as absent; the state says so

    def progress(self, pipeline_id: str) -> ProgressReport | None:
        raw = self._read_json(progress_key(pipeline_id))
        try:
            return ProgressReport.model_validate(raw) if raw is not None else None
        except ValidationError:
            return None

    def latest_checkpoint(self, pipeline_id: str) -> CheckpointPointer | None:
        raw = self._read_json(latest_checkpoint_key(pipeline_id))
        try:
            return CheckpointPointer.model_validate(raw) if raw is not None else None
        except ValidationError:
            return None

    def write_json(self, key: str, document: Any) -> None:
        with aws_call(f"s3:PutObject {key}"):
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=json.dumps(document, default=str).encode("utf-8")
            )
