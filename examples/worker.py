#!/usr/bin/env python3
"""An example pipeline worker that keeps costagent's worker contract (docs/worker-contract.md).

The "work" is summing the squares of 0..N-1, one number per step; its whole state is two numbers in
`<state-dir>/state.json`. What matters is the shape, which a real worker copies:

1. On start, restore the latest checkpoint (every object's checksum verified) and resume from it.
2. Between steps, report progress now and then, and look for a checkpoint request. costagent asks for a
   checkpoint with SSM Run Command; the command it runs on the instance is the pipeline's
   `checkpoint_command`, by default `costagent worker checkpoint-request --pipeline <id>`, which leaves the
   request in a spool directory. The worker writes its state and calls `checkpoint_done` with the request's
   id, so the checkpoint the agent asked for is the one a replacement worker restores.

    python examples/worker.py --pipeline nightly-etl --bucket my-checkpoints --state-dir /var/lib/etl

A checkpoint that fails verification stops the worker (exit 3) rather than silently starting over.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from costagent.worker import (
    DEFAULT_SPOOL_DIR,
    CheckpointCorrupted,
    CheckpointNotFound,
    CheckpointUnreadable,
    WorkerClient,
    pending_checkpoint_request,
)
from costagent.worker_contract import time_segment

STATE_FILE = "state.json"
PROGRESS_EVERY_STEPS = 100  # one small S3 write per 100 steps; costagent reads progress every cycle


@dataclass
class JobState:
    next_item: int = 0
    total: int = 0
    resumed_from: str | None = None  # the checkpoint this worker restored, if any


def restore_or_start(client: WorkerClient, state_dir: Path) -> JobState:
    try:
        restored = client.restore(state_dir)
    except CheckpointNotFound:
        return JobState()
    saved = json.loads((state_dir / STATE_FILE).read_text(encoding="utf-8"))
    return JobState(next_item=saved["next_item"], total=saved["total"], resumed_from=restored.checkpoint_id)


def checkpoint(client: WorkerClient, state_dir: Path, state: JobState, items: int, request: str) -> str:
    state_file = state_dir / STATE_FILE
    state_file.write_text(json.dumps({"next_item": state.next_item, "total": state.total}), encoding="utf-8")
    checkpoint_id = f"ckpt-{time_segment(datetime.now(timezone.utc))}-{state.next_item}"
    client.checkpoint_done(checkpoint_id, {STATE_FILE: state_file}, state.next_item / items, request=request)
    return checkpoint_id


def run(
    client: WorkerClient,
    state_dir: Path,
    spool_dir: Path,
    items: int,
    step_seconds: float = 0.0,
    max_steps: int | None = None,
) -> JobState:
    """Work until the job is done (or `max_steps` steps, for tests); return where it stands."""
    state_dir.mkdir(parents=True, exist_ok=True)
    state = restore_or_start(client, state_dir)
    latest = client.latest_checkpoint()
    handled = latest.request if latest else None  # a request answered before a restart is not answered twice
    steps = 0
    while state.next_item < items and (max_steps is None or steps < max_steps):
        state.total += state.next_item**2  # the work
        state.next_item += 1
        steps += 1
        time.sleep(step_seconds)
        if state.next_item % PROGRESS_EVERY_STEPS == 0:
            client.report_progress(state.next_item / items)
        request = pending_checkpoint_request(spool_dir, client.pipeline_id, handled)
        if request is not None:
            checkpoint(client, state_dir, state, items, request.request)
            handled = request.request
    client.report_progress(state.next_item / items)
    return state


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--spool", type=Path, default=DEFAULT_SPOOL_DIR)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--step-seconds", type=float, default=0.01)
    args = parser.parse_args()
    client = WorkerClient(args.bucket, args.pipeline, worker=_instance_name())
    try:
        state = run(client, args.state_dir, args.spool, args.items, args.step_seconds)
    except (CheckpointCorrupted, CheckpointUnreadable) as error:
        print(f"worker: cannot resume: {error}", file=sys.stderr)
        return 3
    print(json.dumps(asdict(state)))
    return 0


def _instance_name() -> str:
    import socket

    return socket.gethostname()


if __name__ == "__main__":
    sys.exit(main())
