"""The sample events of `events/*.json`, loaded by name: the one way tests get an event.

The same files drive the CLI (`costagent run --event events/<name>.json`), so a test and a user run
exactly the same input.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"
# Every sample event happens at this time; worlds are built at it and later cycles are scheduled after it.
SAMPLE_EVENT_TIME = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def event_path(name: str) -> Path:
    """`events/<name>.json`, for commands that take a file; a name without a sample is an error."""
    path = EVENTS_DIR / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in EVENTS_DIR.glob("*.json")))
        raise FileNotFoundError(f"no sample event named {name!r} in {EVENTS_DIR} (known: {known})")
    return path


def load_event(name: str) -> dict[str, Any]:
    """The sample event `events/<name>.json` as the state machine receives it."""
    event: dict[str, Any] = json.loads(event_path(name).read_text(encoding="utf-8"))
    return event
