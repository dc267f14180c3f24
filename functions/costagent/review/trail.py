"""An audit trail as a list of `CycleRecord`s: read from JSONL, written to JSONL, and filtered.

The JSONL file is what `costagent export` writes: one `CycleRecord` as JSON per line, oldest first. Every
review command takes the file instead of DynamoDB, so a review or a replay needs no AWS access.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pydantic import ValidationError

from costagent.models import CycleRecord, TriggerKind

RELATIVE_SINCE = re.compile(r"^(\d+(?:\.\d+)?)([mhdw])$")
UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class TrailError(ValueError):
    """A trail that cannot be read; the message names the file and line and says what to do."""


def read_jsonl(path: Path) -> list[CycleRecord]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TrailError(f"{path}: cannot read the trail ({error.strerror or error})") from error
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(CycleRecord.model_validate_json(line))
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(part) for part in problem["loc"]) or "the line"
            raise TrailError(
                f"{path}:{number}: not an audit record ({where}: {problem['msg']}); "
                "export the trail again with `costagent export`"
            ) from error
    return sort_records(records)


def write_jsonl(records: Iterable[CycleRecord], path: Path) -> int:
    ordered = sort_records(records)
    path.write_text("".join(r.model_dump_json() + "\n" for r in ordered), encoding="utf-8")
    return len(ordered)


def sort_records(records: Iterable[CycleRecord]) -> list[CycleRecord]:
    return sorted(records, key=lambda r: (r.pipeline_id, r.cycle_time, r.cycle_id))


def parse_since(text: str, now: datetime) -> datetime:
    """`14d`, `36h`, `90m`, `2w` before now, or an ISO 8601 date or time (UTC when no zone is given)."""
    relative = RELATIVE_SINCE.match(text.strip())
    if relative:
        amount, unit = float(relative.group(1)), relative.group(2)
        return now - timedelta(seconds=amount * UNIT_SECONDS[unit])
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise TrailError(
            f"--since {text!r}: give a duration such as 14d, 36h or 90m, or a date such as 2026-12-01"
        ) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def select(
    records: Iterable[CycleRecord], pipeline_id: str | None = None, since: datetime | None = None
) -> list[CycleRecord]:
    chosen = [
        r
        for r in records
        if (pipeline_id is None or r.pipeline_id == pipeline_id) and (since is None or r.cycle_time >= since)
    ]
    return sort_records(chosen)


def cycles(records: Iterable[CycleRecord]) -> list[CycleRecord]:
    """The planned cycles: final records of schedule ticks and spot events, second deliveries left out."""
    return [
        r
        for r in records
        if r.phase == "final"
        and r.duplicate_of is None
        and r.trigger in (TriggerKind.SCHEDULED, TriggerKind.INTERRUPTION, TriggerKind.REBALANCE)
    ]


def pipelines(records: Iterable[CycleRecord]) -> list[str]:
    return sorted({r.pipeline_id for r in records})
