"""Restore drills: restore a pipeline's latest checkpoint into a scratch prefix, verify every object against
its manifest, and record what was found. A checkpoint nobody has restored is a hope, not a backup.

A failed verification is a result, not an exception: the record says which objects failed and why, and
`drills/latest.json` keeps the time of the last drill that passed. AWS errors (permissions, throttling)
still raise, because then nothing was learnt about the checkpoint.
"""

from __future__ import annotations

from datetime import datetime

from costagent.adapters.s3 import CheckpointStore
from costagent.worker import load_manifest
from costagent.worker_contract import (
    DrillRecord,
    Manifest,
    ObjectFailure,
    WorkerContractError,
    check_object,
    drill_key,
    drill_record,
    drill_scratch_prefix,
    latest_drill_key,
)


def run_drill(
    store: CheckpointStore,
    pipeline_id: str,
    *,
    now: datetime,
    scratch_prefix: str | None = None,
    keep_scratch: bool = False,
) -> DrillRecord:
    """Restore the latest checkpoint under `scratch_prefix` (default `drills/scratch/<time>/`), verify
    it, delete the scratch copies unless `keep_scratch`, and write `drills/<time>.json` and
    `drills/latest.json`."""
    scratch = scratch_prefix if scratch_prefix is not None else drill_scratch_prefix(pipeline_id, now)
    if scratch and not scratch.endswith("/"):
        scratch += "/"
    pointer = store.latest_checkpoint(pipeline_id)  # names the checkpoint even when its manifest is torn
    manifest: Manifest | None = None
    failures: list[ObjectFailure] = []
    problem: str | None = None
    try:
        manifest = load_manifest(store, pipeline_id)
        failures, copied = _restore_and_verify(store, manifest, scratch)
        if copied and not keep_scratch:
            store.delete_objects(copied)
    except WorkerContractError as error:
        problem = str(error)
    record = drill_record(
        pipeline=pipeline_id,
        checkpoint=manifest.checkpoint_id if manifest else pointer.checkpoint_id if pointer else None,
        time=now,
        scratch_prefix=scratch,
        manifest=manifest,
        failures=failures,
        problem=problem,
        previous=store.last_drill(pipeline_id),
    )
    store.put_document(drill_key(pipeline_id, now), record)
    store.put_document(latest_drill_key(pipeline_id), record)
    return record


def _restore_and_verify(
    store: CheckpointStore, manifest: Manifest, scratch: str
) -> tuple[list[ObjectFailure], list[str]]:
    names = manifest.restore_names()  # every name checked before anything is copied
    failures: list[ObjectFailure] = []
    copied: list[str] = []
    for entry in manifest.objects:
        target = f"{scratch}{names[entry.key]}"
        observed = None
        if store.copy_object(entry.key, target, entry.size):
            copied.append(target)
            observed = store.read_object(target)
        failure = check_object(entry, observed)
        if failure is not None:
            failures.append(failure)
    return failures, copied
