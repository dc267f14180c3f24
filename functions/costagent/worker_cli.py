"""`costagent worker ...` and `costagent drill`: the worker contract on the command line, for pipelines that
are not written in Python and for the SSM command that asks a worker to checkpoint. Registered by
`costagent.cli.build_parser`; the bucket and region come from the settings (COSTAGENT_CHECKPOINT_BUCKET,
AWS_REGION) unless `--bucket` names one.

Exit codes: 0 done; 1 AWS refused or failed (or a `--wait` ran out); 2 unreadable input (a missing file,
a bad id or number); 3 a checkpoint failed verification (restore, drill); 4 no checkpoint to restore.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from costagent.cli import EXIT_UNREADABLE_INPUT, UnreadableInput

EXIT_FAILED = 1  # AWS refused or failed after retries, or `--wait` ran out
EXIT_VERIFICATION_FAILED = 3
EXIT_NO_CHECKPOINT = 4
WAIT_POLL_SECONDS = 1.0  # how often `checkpoint-request --wait` looks for the answering checkpoint

Command = Callable[[argparse.Namespace], int]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _fails_cleanly(command: Command) -> Command:
    """Turn the worker contract's errors into one line on stderr and the documented exit code."""
    from costagent.errors import AwsRequestRejected, AwsUnavailable
    from costagent.worker_contract import (
        CheckpointCorrupted,
        CheckpointIdTaken,
        CheckpointNotFound,
        CheckpointUnreadable,
    )

    codes: list[tuple[type[Exception], int]] = [
        (CheckpointCorrupted, EXIT_VERIFICATION_FAILED),
        (CheckpointUnreadable, EXIT_VERIFICATION_FAILED),
        (CheckpointNotFound, EXIT_NO_CHECKPOINT),
        (CheckpointIdTaken, EXIT_UNREADABLE_INPUT),
        (ValueError, EXIT_UNREADABLE_INPUT),
        (AwsRequestRejected, EXIT_FAILED),
        (AwsUnavailable, EXIT_FAILED),
    ]

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except tuple(error for error, _ in codes) as error:
            print(f"costagent {_command_name(args)}: {error}", file=sys.stderr)
            return next(code for kind, code in codes if isinstance(error, kind))

    return run


def _command_name(args: argparse.Namespace) -> str:
    sub = getattr(args, "worker_command", None)
    return f"{args.command} {sub}" if sub else str(args.command)


def _client(args: argparse.Namespace, worker: str | None = None) -> Any:
    from costagent.config import get_settings
    from costagent.worker import WorkerClient

    settings = get_settings()
    return WorkerClient(
        args.bucket or settings.checkpoint_bucket, args.pipeline, region=settings.region, worker=worker
    )


def _progress(text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise UnreadableInput(f"progress {text!r} is not a number; give the fraction done, 0..1") from error
    if not 0.0 <= value <= 1.0:
        raise UnreadableInput(f"progress {value} is outside 0..1; give the fraction of the job done")
    return value


def _time(text: str | None, what: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise UnreadableInput(
            f"{what} {text!r} is not an ISO 8601 time (e.g. 2026-12-03T12:00:00Z)"
        ) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# --- worker progress --------------------------------------------------------------------------------


@_fails_cleanly
def command_progress(args: argparse.Namespace) -> int:
    client = _client(args)
    report = client.report_progress(
        _progress(args.progress), started_at=_time(args.started_at, "--started-at")
    )
    print(
        f"{client.pipeline_id}: progress {report.progress:.1%} reported "
        f"(started {report.started_at:%Y-%m-%dT%H:%M:%SZ})"
    )
    return 0


# --- worker checkpoint-done -------------------------------------------------------------------------


def checkpoint_files(paths: list[str]) -> dict[str, Path]:
    """Relative object name -> local file: a file by its name, a directory's files as `<dir>/<path>`."""
    files: dict[str, Path] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = {f"{path.resolve().name}/{f.relative_to(path).as_posix()}": f for f in _files_under(path)}
        elif path.is_file():
            found = {path.name: path}
        else:
            raise UnreadableInput(f"cannot read checkpoint file {given}: no such file or directory")
        for name, file in found.items():
            if name in files:
                raise UnreadableInput(
                    f"two checkpoint files would both be stored as {name!r}: {files[name]} and {file}"
                )
            files[name] = file
    if not files:
        raise UnreadableInput("no checkpoint files given (the directories named are empty)")
    return files


def _files_under(directory: Path) -> Iterator[Path]:
    for root, _, names in os.walk(directory):
        for name in sorted(names):
            yield Path(root) / name


@_fails_cleanly
def command_checkpoint_done(args: argparse.Namespace) -> int:
    files = checkpoint_files(args.files)
    client = _client(args, worker=args.worker)
    manifest = client.checkpoint_done(
        args.checkpoint_id, files, _progress(args.progress), request=args.request
    )
    if args.json:
        print(manifest.model_dump_json(indent=2))
    else:
        print(
            f"checkpoint {manifest.checkpoint_id} of {manifest.pipeline_id}: "
            f"{len(manifest.objects)} object(s), {manifest.total_bytes} bytes, now the latest"
            + (f" (answers request {manifest.request})" if manifest.request else "")
        )
    return 0


# --- worker restore ---------------------------------------------------------------------------------


@_fails_cleanly
def command_restore(args: argparse.Namespace) -> int:
    restored = _client(args).restore(Path(args.to), checkpoint_id=args.checkpoint_id)
    if args.json:
        print(
            json.dumps(
                {
                    "checkpoint_id": restored.checkpoint_id,
                    "request": restored.request,
                    "progress": restored.manifest.progress,
                    "files": {name: str(path) for name, path in restored.files.items()},
                },
                indent=2,
            )
        )
    else:
        print(
            f"restored checkpoint {restored.checkpoint_id} of {restored.manifest.pipeline_id} "
            f"(progress {restored.manifest.progress:.1%}, {len(restored.files)} object(s), every checksum "
            f"verified) into {args.to}"
        )
    return 0


# --- worker checkpoint-request ----------------------------------------------------------------------


@_fails_cleanly
def command_checkpoint_request(args: argparse.Namespace) -> int:
    from costagent.worker import DEFAULT_SPOOL_DIR, ssm_command_id, write_checkpoint_request
    from costagent.worker_contract import time_segment

    now = _now()
    request = args.request or ssm_command_id(os.getcwd()) or f"manual-{time_segment(now)}"
    spool = Path(args.spool) if args.spool else DEFAULT_SPOOL_DIR
    path = write_checkpoint_request(spool, args.pipeline, request, now)
    print(f"checkpoint request {request} for {args.pipeline} left in {path}")
    if args.wait <= 0:
        return 0
    client = _client(args)
    deadline = time.monotonic() + args.wait
    while True:
        latest = client.latest_checkpoint()
        if latest is not None and latest.request == request:
            print(f"answered by checkpoint {latest.checkpoint_id} at {latest.time:%Y-%m-%dT%H:%M:%SZ}")
            return 0
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            print(
                f"costagent worker checkpoint-request: no checkpoint answered request {request} within "
                f"{args.wait:g} s; is the worker running and watching {path.parent}?",
                file=sys.stderr,
            )
            return EXIT_FAILED
        time.sleep(min(WAIT_POLL_SECONDS, remaining))


# --- drill ------------------------------------------------------------------------------------------


@_fails_cleanly
def command_drill(args: argparse.Namespace) -> int:
    record = _client(args).drill(keep_scratch=args.keep_scratch)
    if args.json:
        print(record.model_dump_json(indent=2))
    elif record.ok:
        print(
            f"drill of {record.pipeline_id}: checkpoint {record.checkpoint_id} restored into "
            f"{record.scratch_prefix}, {record.objects_checked} object(s) verified, ok"
        )
    else:
        found = record.problem or "; ".join(f.describe() for f in record.failures)
        print(f"drill of {record.pipeline_id}: FAILED for checkpoint {record.checkpoint_id}: {found}")
    return 0 if record.ok else EXIT_VERIFICATION_FAILED


# --- parsers ----------------------------------------------------------------------------------------


def add_worker_commands(commands: Any) -> None:
    """`worker progress|checkpoint-done|restore|checkpoint-request` and `drill`."""
    worker = commands.add_parser("worker", help="what a pipeline's workers call: the worker contract")
    subcommands = worker.add_subparsers(dest="worker_command", required=True)

    progress = subcommands.add_parser("progress", help="report how far the pipeline is (progress.json)")
    _common(progress)
    progress.add_argument("--progress", required=True, help="fraction of the job done, 0..1")
    progress.add_argument("--started-at", help="when the job started, ISO 8601 (default: as reported before)")
    progress.set_defaults(handler=command_progress)

    done = subcommands.add_parser(
        "checkpoint-done", help="upload a checkpoint's files, write its manifest, then make it the latest"
    )
    _common(done)
    done.add_argument("--checkpoint-id", required=True, help="a new id for this checkpoint")
    done.add_argument("--progress", required=True, help="fraction of the job the checkpoint holds, 0..1")
    done.add_argument("--request", help="the request this answers (the SSM command id)")
    done.add_argument("--worker", help="who wrote it (instance id, host name)")
    done.add_argument("--json", action="store_true", help="print the manifest")
    done.add_argument("files", nargs="+", metavar="FILE", help="files or directories to store")
    done.set_defaults(handler=command_checkpoint_done)

    restore = subcommands.add_parser("restore", help="download a checkpoint, verifying every checksum")
    _common(restore)
    restore.add_argument("--to", required=True, help="directory to restore into")
    restore.add_argument("--checkpoint-id", help="a checkpoint to restore (default: the latest)")
    restore.add_argument("--json", action="store_true", help="print checkpoint id, request and files")
    restore.set_defaults(handler=command_restore)

    request = subcommands.add_parser(
        "checkpoint-request", help="ask the worker on this instance to checkpoint (the SSM command runs this)"
    )
    _common(request)
    request.add_argument("--request", help="request id (default: the SSM command id, else a timestamp)")
    request.add_argument(
        "--spool", default=None, help="directory the worker watches (default /var/tmp/costagent)"
    )
    request.add_argument(
        "--wait",
        type=float,
        default=0.0,
        help="seconds to wait for the checkpoint that answers it (default 0)",
    )
    request.set_defaults(handler=command_checkpoint_request)

    drill = commands.add_parser(
        "drill", help="restore the latest checkpoint into a scratch prefix, verify it, record the result"
    )
    _common(drill)
    drill.add_argument("--keep-scratch", action="store_true", help="keep the restored copies in the bucket")
    drill.add_argument("--json", action="store_true", help="print the drill record")
    drill.set_defaults(handler=command_drill)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pipeline", required=True, help="the pipeline id")
    parser.add_argument("--bucket", help="checkpoint bucket (default: COSTAGENT_CHECKPOINT_BUCKET)")
