"""What every handler shares per cold start: settings, adapters, timing."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache, lru_cache
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


IDEMPOTENCY_SECONDS = 6 * 3600  # a Step Functions retry or a late duplicate comes within hours, not days


@cache
def idempotent(kind: str) -> tuple[Callable[..., dict[str, Any]], Any]:
    """A runner that performs an action at most once per key (pipeline#cycle#action), with powertools
    idempotency on DynamoDB: a retried or duplicated invocation gets the first one's result back.
    Built on first use, so handlers that never act do not load the idempotency utility."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    from costagent.adapters.aws import CLIENT_CONFIG

    settings = get_settings()
    persistence = DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto_config=CLIENT_CONFIG)
    config = IdempotencyConfig(
        event_key_jmespath="key", raise_on_no_idempotency_key=True, expires_after_seconds=IDEMPOTENCY_SECONDS
    )

    @idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=config, key_prefix=kind
    )
    def run(*, request: dict[str, Any], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return action()

    return run, config


def once(kind: str, key: str, context: Any, action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run `action` unless an invocation with the same key already did; return its result either way."""
    run, config = idempotent(kind)
    config.register_lambda_context(context)
    return run(request={"key": key}, action=action)


def reset() -> None:
    """Forget settings, adapters and clients (the local runner calls this when it changes the environment)."""
    adapters.cache_clear()
    claude_planner.cache_clear()
    idempotent.cache_clear()
    get_settings.cache_clear()


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 2)


def timed(result: Any, started: float) -> dict[str, Any]:
    """The step's result as JSON, with its own latency."""
    dumped: dict[str, Any] = result.model_dump(mode="json")
    dumped["latency_ms"] = elapsed_ms(started)
    return dumped
