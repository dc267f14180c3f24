"""What every AWS adapter shares: client construction and error translation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from costagent.errors import AwsRequestRejected, AwsUnavailable

# Standard retry mode backs off with jitter on throttling and 5xx; five attempts keep a cycle well inside
# its Lambda timeout while riding out a short throttling burst.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "SlowDown",
    }
)


def make_client(service: str, region: str) -> Any:
    import boto3  # deferred: only the adapters that are used pay for it

    return boto3.client(service, region_name=region, config=CLIENT_CONFIG)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextmanager
def aws_call(what: str) -> Iterator[None]:
    """Translate botocore failures of `what` into AwsUnavailable / AwsRequestRejected."""
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        message = error.response.get("Error", {}).get("Message", "")
        if code in THROTTLING_CODES or (isinstance(status, int) and status >= 500):
            raise AwsUnavailable(f"{what} failed after retries: {code} {message}".strip()) from error
        raise AwsRequestRejected(f"{what} was rejected: {code} {message}".strip()) from error
    except BotoCoreError as error:
        raise AwsUnavailable(f"{what} failed: {error}") from error


class LazyClient:
    """Mixin: `self.client` is created on first use unless one was given."""

    service: str

    def __init__(self, region: str, client: Any = None) -> None:
        self._region = region
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_client(self.service, self._region)
        return self._client
