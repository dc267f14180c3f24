"""A moto server on 127.0.0.1, in the test process, that `terraform apply` can deploy infra/ to.

It runs in this process (moto's ThreadedMotoServer) so that the local runner's Lambda dispatch, a patch of
moto's Lambda backend, serves the server's invocations too. Where moto leaves a gap this stack falls
into, the server fills it, and MOTO_GAPS_FILLED says which and why; each filling is a patch that lasts
as long as the server.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import boto3

REGION = "us-east-1"
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# What the server does that moto does not do by itself, and why that stays faithful to AWS.
MOTO_GAPS_FILLED: dict[str, str] = {
    "ValidateStateMachineDefinition": (
        "moto 5.2 has the operation in its Step Functions parser but does not route it; the provider "
        "calls it when planning aws_sfn_state_machine. Answered by moto's own ASL static analyser."
    ),
    "ListStateMachineVersions": (
        "not implemented by moto 5.2; the provider lists versions when it reads and deletes a state machine. "
        "Answered from moto's own state machine model (none: the stack publishes no version)."
    ),
    "S3 bucket policy conditions": (
        "moto does not evaluate IAM's Bool operator (a condition it cannot evaluate counts as met) and has "
        "no request context, so the bucket's TLS-only Deny denies every object call. The server drops the "
        "statements whose aws:SecureTransport condition fails over HTTPS, as AWS does for the Lambdas' "
        "calls, and moto evaluates the rest."
    ),
}


@dataclass
class MotoServer:
    url: str
    port: int

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.url, **FAKE_CREDENTIALS)

    def reset(self) -> None:
        """Forget every resource (moto's own reset endpoint)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()


@contextmanager
def running_moto_server() -> Iterator[MotoServer]:
    """A moto server on a free port of 127.0.0.1, empty when it starts and when it stops."""
    from moto.core.config import default_user_config
    from moto.s3.models import FakeBucket
    from moto.server import ThreadedMotoServer
    from moto.stepfunctions.responses import StepFunctionResponse

    # Executions run for real, and functions land in the Lambda backend whose invoke the runner serves.
    config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    werkzeug = logging.getLogger("werkzeug")
    with ExitStack() as stack:
        stack.enter_context(mock.patch.dict(default_user_config, config))
        stack.enter_context(mock.patch.object(FakeBucket, "get_permission", _bucket_permission_over_tls))
        for name, action in (
            ("validate_state_machine_definition", _validate_state_machine_definition),
            ("list_state_machine_versions", _list_state_machine_versions),
        ):
            stack.enter_context(mock.patch.object(StepFunctionResponse, name, action, create=True))
        stack.callback(werkzeug.setLevel, werkzeug.level)
        werkzeug.setLevel(logging.ERROR)  # one line per request otherwise
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        stack.callback(server.stop)
        host, port = server.get_host_and_port()
        moto = MotoServer(url=f"http://{host}:{port}", port=port)
        moto.reset()  # the server shares moto's backends with any mock_aws before it in this process
        stack.callback(moto.reset)
        yield moto


# --- the gaps filled --------------------------------------------------------------------------------


def _validate_state_machine_definition(response: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.stepfunctions.parser.asl.static_analyser.static_analyser import StaticAnalyser

    try:
        StaticAnalyser().analyse(response._get_param("definition"))
    except Exception as error:  # as in moto's own provider: any parser error makes the definition invalid
        diagnostic = {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": repr(error)}
        return ActionResult({"result": "FAIL", "diagnostics": [diagnostic], "truncated": False})
    return ActionResult({"result": "OK", "diagnostics": [], "truncated": False})


def _list_state_machine_versions(response: Any) -> Any:
    from moto.core.responses import ActionResult

    machine = response.stepfunction_backend.describe_state_machine(response._get_param("stateMachineArn"))
    versions = sorted(machine.versions.values(), key=lambda version: version.version, reverse=True)
    listed = [{"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in versions]
    return ActionResult({"stateMachineVersions": listed})


def _bucket_permission_over_tls(bucket: Any, action: str, resource: str) -> Any:
    """The bucket policy's decision on an HTTPS call: statements conditioned on aws:SecureTransport apply
    only when their condition holds for TLS; moto evaluates the rest."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(bucket.policy)
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    applicable = [statement for statement in statements if _holds_over_tls(statement)]
    if not applicable:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps({**policy, "Statement": applicable})).is_action_permitted(action, resource)


def _holds_over_tls(statement: dict[str, Any]) -> bool:
    secure_transport = statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
    if secure_transport is None:
        return True
    values = [secure_transport] if isinstance(secure_transport, str) else secure_transport
    return "true" in {str(value).lower() for value in values}
