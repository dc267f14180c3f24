"""RecordDecision: write the execution's audit item, then release the pipeline's lease."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime

from costagent.adapters.bundle import AwsAdapters
from costagent.audit import build_cycle_record
from costagent.config import Settings
from costagent.document import CycleDocument
from costagent.errors import CostagentError
from costagent.models import CycleRecord


def record_cycle(
    document: CycleDocument, *, phase: str, recorded_at: datetime, aws: AwsAdapters, settings: Settings
) -> CycleRecord:
    record = build_cycle_record(
        document, phase=phase, recorded_at=recorded_at, ttl_days=settings.audit_ttl_days
    )
    aws.audit.put(record)
    gathered = document.gathered
    if phase == "final" and gathered is not None and gathered.lease.acquired and document.trigger:
        # The lease expires by itself if release fails; the audit item, which matters, is written.
        with suppress(CostagentError):
            aws.lease.release(record.pipeline_id, document.lease_holder())
    return record
