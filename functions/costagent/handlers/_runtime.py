"""What every handler shares per cold start: settings, adapters, timing."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from costagent.config import get_settings

if TYPE_CHECKING:
    from costagent.adapters.bundle import AwsAdapters


@lru_cache(maxsize=1)
def adapters() -> AwsAdapters:
    """Built once per cold start; boto3 clients inside are created on first use. Imported here so the
    handlers that never call AWS (plan, clamp) do not load botocore at cold start."""
    from costagent.adapters.bundle import AwsAdapters

    return AwsAdapters.from_settings(get_settings())


@lru_cache(maxsize=1)
def claude_planner() -> Any:
    """The Claude planner of this cold start: the SDK is imported, and the API key read from Secrets
    Manager, once, on first use; a pipeline that plans with rules never pays for either."""
    from costagent.adapters.claude import make_claude_client
    from costagent.adapters.secrets import SecretsAdapter
    from costagent.planner.claude import ClaudePlanner

    settings = get_settings()
    client = make_claude_client(
        settings.llm, region=settings.region, read_secret=SecretsAdapter(settings.region).read
    )
    return ClaudePlanner.from_settings(client, settings.llm)


def reset() -> None:
    """Forget settings, adapters and clients (the local runner calls this when it changes the environment)."""
    adapters.cache_clear()
    claude_planner.cache_clear()
    get_settings.cache_clear()


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 2)


def timed(result: Any, started: float) -> dict[str, Any]:
    """The step's result as JSON, with its own latency."""
    dumped: dict[str, Any] = result.model_dump(mode="json")
    dumped["latency_ms"] = elapsed_ms(started)
    return dumped
