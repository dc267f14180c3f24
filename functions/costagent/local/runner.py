"""Embedded AWS: the real state machine file, executed by moto's Step Functions interpreter, in process.

`mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}})`
runs the ASL for real. Docker is not available, so each Lambda invocation moto makes is dispatched to the
in-process handler module instead (moto's `LambdaSimpleBackend.invoke` is the narrowest point to hook).
Functions are created in moto, so their ARNs resolve exactly as in AWS. A handler's exception comes back
as a Lambda function error (`errorType` = the exception's class name), which is what Step Functions
Catch/Retry match on, as with the real Lambda runtime.

Waits and retry intervals are skipped (the interpreter would sleep for real). This module relies on moto
internals; `pyproject.toml` pins the moto range it was tested with.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module, resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

from costagent.config import ENVIRONMENT_NAMES, Settings
from costagent.local.moto_fidelity import fidelity_patches
from costagent.local.spot_market import SpotMarket
from costagent.schema import create_table_arguments

ACCOUNT_ID = "123456789012"  # moto's default account
STATE_MACHINE_NAME = "costagent-cycle"
EXECUTION_POLL_SECONDS = 0.002  # how often the runner asks moto whether an execution finished
EXECUTION_TIMEOUT_SECONDS = 60.0  # a local execution that takes longer is reported as timed out

# Lambda function name -> (handler module, ASL placeholder). Terraform uses the same placeholders.
FUNCTIONS: dict[str, tuple[str, str]] = {
    "costagent-read-trigger": ("costagent.handlers.read_trigger", "read_trigger_function_arn"),
    "costagent-checkpoint-now": ("costagent.handlers.checkpoint_now", "checkpoint_function_arn"),
    "costagent-gather-state": ("costagent.handlers.gather_state", "gather_function_arn"),
    "costagent-plan": ("costagent.handlers.plan", "plan_function_arn"),
    "costagent-clamp": ("costagent.handlers.clamp", "clamp_function_arn"),
    "costagent-execute": ("costagent.handlers.execute", "execute_function_arn"),
    "costagent-record": ("costagent.handlers.record", "record_function_arn"),
}


def state_machine_path() -> Path:
    """`statemachine/cycle.asl.json` in a checkout; the copy inside the package when installed elsewhere."""
    checkout = Path(__file__).resolve().parents[3] / "statemachine" / "cycle.asl.json"
    if checkout.exists():
        return checkout
    return Path(str(resources.files("costagent").joinpath("cycle.asl.json")))


def render_definition(template: str, values: dict[str, str]) -> str:
    """Fill `${name}` placeholders as Terraform's templatefile() does; a missing value is an error."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no value for placeholder ${{{name}}} in the state machine definition")
        return values[name]

    return re.sub(r"\$\{([A-Za-z0-9_]+)\}", substitute, template)


@dataclass
class LocalContext:
    """The parts of the Lambda context object that powertools reads."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    deadline_seconds: float = 60.0

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._started = time.monotonic()

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self.deadline_seconds - (time.monotonic() - self._started)) * 1000), 0)


@dataclass
class Fault:
    error_type: str
    message: str
    remaining: int


@dataclass
class ExecutionReport:
    name: str
    arn: str
    status: str
    states: list[str]
    output: dict[str, Any] | None
    error: str | None = None
    cause: str | None = None
    wall_seconds: float = 0.0


@dataclass
class EmbeddedAws:
    """A whole costagent deployment on moto, in this process. Use as a context manager."""

    settings: Settings = field(default_factory=Settings)
    log_level: str = "WARNING"
    extra_environment: dict[str, str] = field(default_factory=dict)
    market: SpotMarket = field(default_factory=SpotMarket)
    invocations: list[str] = field(default_factory=list)
    _faults: dict[str, list[Fault]] = field(default_factory=dict)
    _hooks: dict[str, Callable[[dict[str, Any]], None]] = field(default_factory=dict)
    _stack: list[Any] = field(default_factory=list)
    _clients: dict[str, Any] = field(default_factory=dict)
    _executions: int = 0
    state_machine_arn: str = ""
    # Set to use a moto server running in this process (moto.server.ThreadedMotoServer) instead of
    # mock_aws, one whose resources someone else created (tests/infra applies infra/ to it with
    # Terraform): nothing is created here, set state_machine_arn. The server must run with moto's
    # `stepfunctions.execute_state_machine` and `lambda.use_docker = False` configuration before the
    # functions are created, so that they land in the Lambda backend whose invoke this runner serves.
    moto_server_port: int | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> EmbeddedAws:
        from moto import mock_aws

        # moto's interpreter logs every caught exception at ERROR; the execution history has them.
        logging.getLogger("moto").setLevel(logging.CRITICAL)
        environment = self._environment()
        self._push(mock.patch.dict(os.environ, environment))
        if self.moto_server_port is None:
            self._push(
                mock_aws(
                    config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
                )
            )
        self._patch_moto()
        self._reset_handler_caches()
        if self.moto_server_port is None:
            self._create_infrastructure()
        return self

    def __exit__(self, *exc_info: object) -> None:
        while self._stack:
            self._stack.pop().__exit__(None, None, None)
        self._reset_handler_caches()

    def _push(self, context_manager: Any) -> None:
        context_manager.__enter__()
        self._stack.append(context_manager)

    def _environment(self) -> dict[str, str]:
        values = self.settings.model_dump()
        environment = {name: str(values[key]) for key, name in ENVIRONMENT_NAMES.items()}
        # The LLM settings (provider, key, base URL) come from the caller's own environment, untouched.
        environment.update(
            {
                "AWS_DEFAULT_REGION": self.settings.region,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",  # loading moto's AMI catalogue costs ~2 s per run
                "POWERTOOLS_SERVICE_NAME": "costagent",
                "POWERTOOLS_METRICS_NAMESPACE": "costagent",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": self.log_level,
            }
        )
        if self.moto_server_port is not None:
            # Handlers' clients reach the server; moto's interpreter calls Lambda on localhost:MOTO_PORT.
            environment["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{self.moto_server_port}"
            environment["MOTO_PORT"] = str(self.moto_server_port)
        environment.update(self.extra_environment)
        return environment

    def _reset_handler_caches(self) -> None:
        from costagent.handlers import _runtime

        _runtime.reset()

    def _patch_moto(self) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
            WaitFunction,
        )

        runner = self

        def invoke(
            backend: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
        ) -> bytes:
            return runner._dispatch(function_name, body, response_headers)

        self._push(mock.patch.object(LambdaSimpleBackend, "invoke", invoke))
        # Retry intervals and Wait states would sleep for real: local runs skip the wait, keep the order.
        fast_time = SimpleNamespace(sleep=lambda seconds: None, time=time.time, monotonic=time.monotonic)
        self._push(mock.patch.object(retrier_decl, "time", fast_time))
        self._push(mock.patch.object(WaitFunction, "_wait_interval", lambda self, env, wait_seconds: None))
        for patch in fidelity_patches(self.market):
            self._push(patch)

    # --- Lambda dispatch ---------------------------------------------------------------------

    def _dispatch(self, function_ref: str, body: Any, response_headers: dict[str, str]) -> bytes:
        name = function_ref.rsplit(":", 1)[-1] if function_ref.startswith("arn:") else function_ref
        self.invocations.append(name)
        try:
            event = json.loads(body) if body else {}
            if name in self._hooks:
                self._hooks[name](event)
            fault = self._take_fault(name)
            if fault is not None:
                raise _InjectedError(fault.error_type, fault.message)
            module_name, _ = FUNCTIONS[name]
            module = import_module(module_name)
            try:
                result = module.handler(event, LocalContext(function_name=name))
            finally:
                # Metrics are disabled here, so log_metrics never flushes them; cleared per invocation as a
                # Lambda's would be, or powertools prints them on stdout once a metric holds 100 values.
                if hasattr(module, "metrics"):
                    module.metrics.clear_metrics()
            return json.dumps(result).encode("utf-8")
        except Exception as error:  # what the Lambda runtime does with an unhandled exception
            response_headers["x-amz-function-error"] = "Unhandled"
            error_type = error.error_type if isinstance(error, _InjectedError) else type(error).__name__
            payload = {
                "errorType": error_type,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exception(type(error), error, error.__traceback__)[-3:],
            }
            return json.dumps(payload).encode("utf-8")

    def fail_next(
        self, function_name: str, error_type: str, message: str = "injected", times: int = 1
    ) -> None:
        """Make the next `times` invocations of `function_name` fail with `error_type` (tests, demo)."""
        self._faults.setdefault(function_name, []).append(Fault(error_type, message, times))

    def before_invoke(self, function_name: str, hook: Callable[[dict[str, Any]], None]) -> None:
        """Run `hook(event)` before each invocation of `function_name` (to change the world mid-cycle)."""
        self._hooks[function_name] = hook

    def _take_fault(self, name: str) -> Fault | None:
        queue = self._faults.get(name, [])
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault

    # --- infrastructure ----------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """A boto3 client on this embedded AWS, created once per service (creating one costs ~30 ms)."""
        import boto3

        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=self.settings.region)
        return self._clients[service]

    def _create_infrastructure(self) -> None:
        settings = self.settings
        dynamodb = self.client("dynamodb")
        dynamodb.create_table(**create_table_arguments("audit", settings.audit_table))
        dynamodb.create_table(**create_table_arguments("lease", settings.lease_table))
        dynamodb.create_table(**create_table_arguments("idempotency", settings.idempotency_table))
        self.client("s3").create_bucket(Bucket=settings.checkpoint_bucket)
        iam = self.client("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role_arn = iam.create_role(RoleName="costagent-local", AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]
        lambda_client = self.client("lambda")
        arns: dict[str, str] = {}
        for name, (module_name, placeholder) in FUNCTIONS.items():
            created = lambda_client.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role_arn,
                Handler=f"{module_name}.handler",
                Code={"ZipFile": _placeholder_zip()},
            )
            arns[placeholder] = created["FunctionArn"]
        definition = render_definition(state_machine_path().read_text(encoding="utf-8"), arns)
        self.state_machine_arn = self.client("stepfunctions").create_state_machine(
            name=STATE_MACHINE_NAME, definition=definition, roleArn=role_arn, type="STANDARD"
        )["stateMachineArn"]

    # --- executions --------------------------------------------------------------------------

    def execution_name(self, event: Any) -> str:
        """Readable and unique: `<trigger>-<pipeline or instance>-<time>-<n>` (moto refuses repeats)."""
        self._executions += 1
        detail = event.get("detail", {}) if isinstance(event, dict) else {}
        detail = detail if isinstance(detail, dict) else {}
        kind = {
            "Scheduled Event": "cycle",
            "EC2 Spot Instance Interruption Warning": "interruption",
            "EC2 Instance Rebalance Recommendation": "rebalance",
        }.get(str(event.get("detail-type")) if isinstance(event, dict) else "", "event")
        subject = str(detail.get("pipeline_id") or detail.get("instance-id") or "unknown")
        stamp = str(event.get("time", "") if isinstance(event, dict) else "")
        raw = f"{kind}-{subject}-{stamp}-{self._executions}"
        return re.sub(r"[^A-Za-z0-9_-]", "", raw.replace(":", ""))[:80]

    def run(self, event: Any, *, name: str | None = None) -> ExecutionReport:
        sfn = self.client("stepfunctions")
        started = time.perf_counter()
        execution_name = name or self.execution_name(event)
        arn = sfn.start_execution(
            stateMachineArn=self.state_machine_arn, name=execution_name, input=json.dumps(event)
        )["executionArn"]
        # Poll moto's execution object, not the API: each DescribeExecution call would take the GIL from
        # the interpreter thread for ~10 ms. The result is then read once through the real API.
        execution = self._backend_execution(arn)
        while (
            str(getattr(execution, "exec_status", None) or "").endswith("RUNNING")
            or execution.exec_status is None
        ):
            if time.perf_counter() - started > EXECUTION_TIMEOUT_SECONDS:
                sfn.stop_execution(executionArn=arn, error="LocalTimeout")
                break
            time.sleep(EXECUTION_POLL_SECONDS)
        described = sfn.describe_execution(executionArn=arn)
        output = json.loads(described["output"]) if described.get("output") else None
        return ExecutionReport(
            name=execution_name,
            arn=arn,
            status=described["status"],
            states=self.states_taken(arn),
            output=output,
            error=described.get("error"),
            cause=described.get("cause"),
            wall_seconds=round(time.perf_counter() - started, 4),
        )

    def _backend_execution(self, execution_arn: str) -> Any:
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        backend = stepfunctions_parser_backends[ACCOUNT_ID][self.settings.region]
        return backend.describe_execution(execution_arn)

    def states_taken(self, execution_arn: str) -> list[str]:
        sfn = self.client("stepfunctions")
        names: list[str] = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
            for history_event in page["events"]:
                details = history_event.get("stateEnteredEventDetails")
                if history_event["type"].endswith("StateEntered") and details:
                    names.append(details["name"])
        return names


class _InjectedError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _placeholder_zip() -> bytes:
    """moto wants a code package; the code that runs is the in-process handler, not this."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "costagent handlers are dispatched in process by the local runner\n")
    return buffer.getvalue()
