"""`costagent local-aws`: a moto server on 127.0.0.1 holding costagent's tables, a pipeline's parameters
and, optionally, an audit trail, so the operator commands (`report`, `export`, `signoff`, `promote`) can be
tried end to end with no AWS account. They reach it through boto3's standard `AWS_ENDPOINT_URL`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from costagent.config import Settings
from costagent.models import CycleRecord

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass(frozen=True)
class LocalAws:
    url: str
    region: str
    pipelines: list[str]
    records: int

    def environment(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.url, "AWS_REGION": self.region, **FAKE_CREDENTIALS}

    def exports(self) -> str:
        return "export " + " ".join(f"{name}={value}" for name, value in self.environment().items())


def _client(service: str, url: str, region: str) -> Any:
    import boto3

    return boto3.client(
        service,
        region_name=region,
        endpoint_url=url,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def provision(url: str, settings: Settings, records: list[CycleRecord]) -> list[str]:
    """Tables as Terraform creates them, each pipeline's mode (observe) and guardrails, the kill switch
    off, and the records in the audit table. Returns the pipelines."""
    from costagent.adapters.dynamodb import AuditStore
    from costagent.schema import create_table_arguments

    dynamodb = _client("dynamodb", url, settings.region)
    for kind, name in (
        ("audit", settings.audit_table),
        ("lease", settings.lease_table),
        ("idempotency", settings.idempotency_table),
    ):
        dynamodb.create_table(**create_table_arguments(kind, name))
    ssm = _client("ssm", url, settings.region)
    ssm.put_parameter(Name=settings.kill_switch_parameter, Value="off", Type="String")
    pipelines = sorted({r.pipeline_id for r in records if not r.pipeline_id.startswith("_")})
    for pipeline in pipelines:
        ssm.put_parameter(Name=settings.mode_parameter(pipeline), Value="observe", Type="String")
        guardrails = next(
            (r.replay.guardrails for r in reversed(records) if r.pipeline_id == pipeline and r.replay), None
        )
        if guardrails is not None:
            ssm.put_parameter(
                Name=settings.guardrails_parameter(pipeline),
                Value=guardrails.model_dump_json(),
                Type="String",
            )
    store = AuditStore(settings.region, settings.audit_table, client=dynamodb)
    for record in records:
        store.put(record)
    return pipelines


@contextmanager
def local_aws(settings: Settings, trail: Path | None = None, port: int = 0) -> Iterator[LocalAws]:
    from moto.server import ThreadedMotoServer

    from costagent.review.trail import read_jsonl

    records = read_jsonl(trail) if trail is not None else []
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    url = f"http://{host}:{bound}"
    try:
        # moto's backends live in the process: a server started earlier in it (tests) left its data there.
        _reset(url)
        pipelines = provision(url, settings, records)
        yield LocalAws(url=url, region=settings.region, pipelines=pipelines, records=len(records))
    finally:
        _reset(url)
        server.stop()


def _reset(url: str) -> None:
    import urllib.request

    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1, never a proxy
    with direct.open(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10):
        pass
