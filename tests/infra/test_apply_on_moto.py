"""`terraform apply` and `destroy` of infra/ against a moto server on 127.0.0.1, and one cycle on the result.

fmt, validate and checkov read the configuration; only an apply shows that the provider can create what it
describes, in an order that works, with values the code reads back. So the real provider applies a copy
of infra/ to a moto server started in this process (tests/infra/moto_server.py), the resources are read
back with boto3 as an operator would and compared with what the code expects (tables.json, the settings
it reads, the rendered ASL), one execution of the deployed state machine runs, and `destroy` must leave
nothing behind. Each Terraform command's output is kept as terraform-<command>.log beside the copy.

Offline and away from AWS: the copy gets a `providers_override.tf` (Terraform's override files; infra/
itself is untouched) with fake credentials and an endpoint on the server for each service the classified
types call, and the provider's and Terraform's proxies point at a closed port on 127.0.0.1, so a call to
any endpoint left out fails at once instead of reaching AWS. Every resource and data source type in
infra/ is classified below, as applied on moto (with its service) or unsupported (with the reason): a
type someone adds fails `test_every_resource_type_in_infra_is_classified_for_moto` until they decide.

What moto cannot serve is left out with `-target` on every other resource (Terraform has no -exclude);
the targeted plan must not pull an unsupported resource in as a dependency. The same list is in
infra/README.md ("Tested against moto"). Three smaller gaps are filled by the server instead
(moto_server.MOTO_GAPS_FILLED).

The execution: the deployed functions hold the real package, but moto runs Lambda code only in Docker.
The server runs in this process, so the local runner's Lambda dispatch (a patch of moto's Lambda
backend) serves its invocations too: moto's Step Functions interpreter runs the deployed definition and
calls the deployed functions by ARN through the server, and each call runs the handler in process with
the environment Terraform gave the function.

Runtime: about 100 s, nearly all of it the provider's own fixed waits: it creates Lambda functions one at
a time and waits 5 s for each to be Active, and waits 55 s for ten identical reads of the bucket's
lifecycle configuration. The tests run in file order; the destroy test comes last.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from costagent.config import settings_from
from costagent.guardrails import Guardrails
from costagent.local.runner import FUNCTIONS, EmbeddedAws, render_definition
from costagent.schema import create_table_arguments, table_schemas
from tests.events import load_event
from tests.infra.moto_server import REGION, MotoServer, running_moto_server
from tests.infra.test_terraform import PLUGIN_DIR, _terraform
from tests.support import the_record

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
NAME_PREFIX = "costagent"  # the default name_prefix, which the Lambdas expect
TERRAFORM_TIMEOUT_SECONDS = 300  # an apply takes ~70 s; the margin is for slow CI machines
# The provider creates Lambda functions one at a time, and each one waiting for its turn holds one of
# Terraform's 10 default slots: with more slots, the rest of the stack is created meanwhile.
PARALLELISM = "-parallelism=50"
# Nothing listens on the discard port: a request sent through this proxy fails at once.
CLOSED_PROXY = "http://127.0.0.1:9"

# Managed resource types applied on moto and read back, by the provider endpoint each one calls.
APPLIED_ON_MOTO: dict[str, str] = {
    "aws_autoscaling_group": "autoscaling",
    "aws_cloudwatch_dashboard": "cloudwatch",
    "aws_cloudwatch_event_rule": "events",
    "aws_cloudwatch_event_target": "events",
    "aws_cloudwatch_log_group": "logs",
    "aws_cloudwatch_metric_alarm": "cloudwatch",
    "aws_dynamodb_table": "dynamodb",
    "aws_iam_policy": "iam",
    "aws_iam_role": "iam",
    "aws_iam_role_policy": "iam",
    "aws_lambda_function": "lambda",
    "aws_lambda_layer_version": "lambda",
    "aws_lambda_permission": "lambda",
    "aws_launch_template": "ec2",
    "aws_s3_bucket": "s3",
    "aws_s3_bucket_lifecycle_configuration": "s3",
    "aws_s3_bucket_policy": "s3",
    "aws_s3_bucket_public_access_block": "s3",
    "aws_s3_bucket_server_side_encryption_configuration": "s3",
    "aws_s3_bucket_versioning": "s3",
    "aws_scheduler_schedule": "scheduler",
    "aws_secretsmanager_secret": "secretsmanager",
    "aws_sfn_state_machine": "sfn",
    "aws_sns_topic": "sns",
    "aws_sns_topic_subscription": "sns",
    "aws_ssm_parameter": "ssm",
}

# Managed resource types left out of the apply on moto, and why. infra/README.md lists the same.
UNSUPPORTED_BY_MOTO: dict[str, str] = {
    "aws_budgets_budget": (
        "the provider reads a new budget's notification subscribers back with "
        "DescribeSubscribersForNotification, which moto does not implement"
    ),
    "aws_budgets_budget_action": "moto does not implement the Budgets actions API (CreateBudgetAction)",
}

# Data source types, by the endpoint each one calls ("": computed by the provider, no API call).
DATA_SOURCES: dict[str, str] = {
    "aws_caller_identity": "sts",
    "aws_iam_policy_document": "",
    "aws_partition": "",
}

# Two pipelines: one with a budget and the rules planner (its cycle runs below), one planning with Claude
# (so the stack creates the empty Anthropic secret). Subnets and AMI are moto's, filled in at run time.
PIPELINES: dict[str, dict[str, Any]] = {
    "nightly-etl": {
        "allowed_instance_types": ["m6i.xlarge", "m5.xlarge"],
        "default_instance_type": "m6i.xlarge",
        "min_instances": 0,
        "max_instances": 6,
        "target_instances": 2,
        "budget_usd": 500,
        "deadline": "2026-12-04T06:00:00Z",
        "planner": "rules",
    },
    "training": {
        "allowed_instance_types": ["g5.xlarge", "g5.2xlarge"],
        "default_instance_type": "g5.xlarge",
        "min_instances": 0,
        "max_instances": 3,
        "planner": "claude",
        "schedule_rate": "rate(5 minutes)",
    },
}
CYCLE_PIPELINE = "nightly-etl"  # the pipeline of events/scheduled-event.json
BUDGET_EMAILS = ["platform-oncall@example.com"]


# --- classification ---------------------------------------------------------------------------------


def declared_types() -> tuple[dict[str, set[str]], set[str]]:
    """Managed resource types of infra/*.tf with the addresses declaring them, and the data source types."""
    resources: dict[str, set[str]] = {}
    data_sources: set[str] = set()
    for path in sorted(INFRA.glob("*.tf")):
        for kind, type_, name in re.findall(
            r'^(resource|data)\s+"([a-z0-9_]+)"\s+"([A-Za-z0-9_-]+)"', path.read_text(), re.M
        ):
            if kind == "resource":
                resources.setdefault(type_, set()).add(f"{type_}.{name}")
            else:
                data_sources.add(type_)
    return resources, data_sources


def classification_problems() -> list[str]:
    resources, data_sources = declared_types()
    problems = [
        f"resource type {type_} ({', '.join(sorted(addresses))}) is neither in APPLIED_ON_MOTO nor in "
        "UNSUPPORTED_BY_MOTO of tests/infra/test_apply_on_moto.py: apply it on moto and check it, or list "
        "it as unsupported with the reason (and in infra/README.md, Tested against moto)"
        for type_, addresses in sorted(resources.items())
        if type_ not in APPLIED_ON_MOTO and type_ not in UNSUPPORTED_BY_MOTO
    ]
    problems += [
        f"data source type {type_} is not in DATA_SOURCES of tests/infra/test_apply_on_moto.py: add it "
        "with the service endpoint it calls"
        for type_ in sorted(data_sources - set(DATA_SOURCES))
    ]
    problems += [
        f"{type_} is both applied on moto and unsupported"
        for type_ in sorted(set(APPLIED_ON_MOTO) & set(UNSUPPORTED_BY_MOTO))
    ]
    return problems


def test_every_resource_type_in_infra_is_classified_for_moto() -> None:
    assert classification_problems() == []


def test_infra_readme_lists_the_types_moto_does_not_apply() -> None:
    readme = (INFRA / "README.md").read_text()
    assert "### Tested against moto" in readme
    section = readme[readme.index("### Tested against moto") :]
    listed = set(re.findall(r"^\| `(aws_[a-z0-9_]+)` \|", section, re.M))
    assert listed == set(UNSUPPORTED_BY_MOTO)


# --- the Terraform workspace ------------------------------------------------------------------------


def provider_override(endpoint: str, services: set[str]) -> str:
    """providers_override.tf: state in the copy, fake credentials, and every call to moto or nowhere."""
    endpoints = "\n".join(f'    {service} = "{endpoint}"' for service in sorted(services))
    return f"""# Written by tests/infra/test_apply_on_moto.py into its copy of infra/.
terraform {{
  backend "local" {{}}
}}

provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  max_retries                 = 1
  http_proxy                  = "{CLOSED_PROXY}"
  https_proxy                 = "{CLOSED_PROXY}"
  no_proxy                    = "127.0.0.1"

  endpoints {{
{endpoints}
  }}
}}
"""


def _terraform_env(tmp: Path) -> dict[str, str]:
    """Only what Terraform needs: no AWS profile, config file or credentials of the caller leak in."""
    (tmp / "terraformrc").write_text("")
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",  # no version check against checkpoint-api.hashicorp.com
        "TF_CLI_CONFIG_FILE": str(tmp / "terraformrc"),
        "TF_DATA_DIR": str(tmp / ".terraform"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "HTTP_PROXY": CLOSED_PROXY,
        "HTTPS_PROXY": CLOSED_PROXY,
        "NO_PROXY": "127.0.0.1",
    }


def _copy_of_infra(tmp: Path) -> Path:
    """infra/ and what it reads (../functions, ../statemachine, ../build), without local state or vars."""
    copy = tmp / "repo"
    ignored = shutil.ignore_patterns(
        ".terraform*", "*.tfstate*", "*.tfvars", "*.tfvars.json", "*override.tf*"
    )
    shutil.copytree(INFRA, copy / "infra", ignore=ignored)
    (copy / "functions" / "costagent").mkdir(parents=True)
    shutil.copy2(ROOT / "functions" / "costagent" / "tables.json", copy / "functions" / "costagent")
    shutil.copytree(ROOT / "statemachine", copy / "statemachine")
    build = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build_lambda.sh"), "package"],
        env={**os.environ, "BUILD_DIR": str(copy / "build"), "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert build.returncode == 0, f"scripts/build_lambda.sh package failed:\n{build.stdout}{build.stderr}"
    # The real layer is pip-installed from the package index (not reachable here); moto only stores it.
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as archive:
        archive.writestr("python/README.txt", "stand-in for build/costagent-layer.zip in tests/infra\n")
    (copy / "build" / "costagent-layer.zip").write_bytes(layer.getvalue())
    return copy / "infra"


def _tfvars(moto: MotoServer) -> dict[str, Any]:
    """The pipelines on an AMI moto knows and two subnets of its default VPC."""
    ec2 = moto.client("ec2")
    image_id = min(
        image["ImageId"]
        for image in ec2.describe_images(Owners=["amazon"])["Images"]
        if re.fullmatch(r"ami-[0-9a-f]{8,17}", image["ImageId"])
    )
    subnets = sorted(ec2.describe_subnets()["Subnets"], key=lambda subnet: subnet["AvailabilityZone"])
    return {
        "region": REGION,
        "name_prefix": NAME_PREFIX,
        "worker_image_id": image_id,
        "budget_notification_emails": BUDGET_EMAILS,
        "pipelines": {
            pipeline_id: {**pipeline, "subnet_ids": [subnet["SubnetId"] for subnet in subnets[:2]]}
            for pipeline_id, pipeline in PIPELINES.items()
        },
    }


def _readable(json_lines: str) -> str:
    """The human messages of Terraform's machine-readable (-json) output."""
    messages = []
    for line in json_lines.splitlines():
        message = json.loads(line)
        detail = message.get("diagnostic", {}).get("detail", "")
        messages.append(f"{message.get('@message', '')} {detail}".strip())
    return "\n".join(messages)


@dataclass
class Deployment:
    """infra/ applied to the moto server: the workspace, the types applied, and Terraform's outputs."""

    moto: MotoServer
    infra: Path
    env: dict[str, str]
    binary: str
    applied_types: set[str] = field(default_factory=set)
    outputs: dict[str, Any] = field(default_factory=dict)

    def terraform(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.binary, *args, "-no-color"],
            cwd=self.infra,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TERRAFORM_TIMEOUT_SECONDS,
            check=False,
        )
        (self.infra.parent.parent / f"terraform-{args[0]}.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            output = _readable(result.stdout) if "-json" in args else result.stdout
            pytest.fail(f"terraform {args[0]} failed:\n{output[-4000:]}{result.stderr[-4000:]}")
        return result

    def apply_what_moto_supports(self) -> None:
        """Plan with -target on every applied resource, check nothing unsupported came along, apply."""
        resources, _ = declared_types()
        targets = [f"-target={address}" for type_ in APPLIED_ON_MOTO for address in resources.get(type_, ())]
        plan = self.terraform(
            "plan", "-input=false", "-out=moto.tfplan", "-json", PARALLELISM, *sorted(targets)
        )
        self.applied_types = {
            message["change"]["resource"]["resource_type"]
            for message in map(json.loads, plan.stdout.splitlines())
            if message["type"] == "planned_change" and message["change"]["action"] != "read"
        }
        pulled_in = self.applied_types & set(UNSUPPORTED_BY_MOTO)
        if pulled_in:
            pytest.fail(
                f"the targeted plan pulls in {sorted(pulled_in)}, which moto cannot apply, as a dependency "
                "of an applied resource: remove the dependency, or classify the dependent type unsupported",
                pytrace=False,
            )
        self.terraform("apply", "-input=false", PARALLELISM, "moto.tfplan")
        outputs = json.loads(self.terraform("output", "-json").stdout)
        self.outputs = {name: output["value"] for name, output in outputs.items()}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """infra/ applied to a moto server, every resource type moto supports and nothing else."""
    binary = _terraform()
    if not Path(PLUGIN_DIR).is_dir():
        pytest.fail(f"the offline provider mirror {PLUGIN_DIR} is missing (set COSTAGENT_TF_PLUGIN_DIR)")
    problems = classification_problems()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)

    tmp = tmp_path_factory.mktemp("moto-apply")
    infra = _copy_of_infra(tmp)
    with running_moto_server() as moto:
        services = {service for service in {*APPLIED_ON_MOTO.values(), *DATA_SOURCES.values()} if service}
        (infra / "providers_override.tf").write_text(provider_override(moto.url, services))
        (infra / "moto.auto.tfvars.json").write_text(json.dumps(_tfvars(moto), indent=2))
        deployment = Deployment(moto, infra, _terraform_env(tmp), binary)
        deployment.terraform("init", "-input=false", f"-plugin-dir={PLUGIN_DIR}")
        deployment.apply_what_moto_supports()
        yield deployment


def test_targeted_plan_applies_every_supported_type_infra_declares(deployment: Deployment) -> None:
    resources, _ = declared_types()
    assert deployment.applied_types == set(resources) - set(UNSUPPORTED_BY_MOTO)


# --- what apply created -----------------------------------------------------------------------------


def test_state_machine_runs_the_template_with_the_deployed_function_arns(deployment: Deployment) -> None:
    described = deployment.moto.client("stepfunctions").describe_state_machine(
        stateMachineArn=deployment.outputs["state_machine_arn"]
    )
    arns = deployment.outputs["function_arns"]
    placeholders = {
        placeholder: arns[name.removeprefix(f"{NAME_PREFIX}-")]
        for name, (_, placeholder) in FUNCTIONS.items()
    }
    template = (ROOT / "statemachine" / "cycle.asl.json").read_text()
    assert json.loads(described["definition"]) == json.loads(render_definition(template, placeholders))
    assert described["roleArn"] == deployment.outputs["state_machine_role_arn"]
    assert described["type"] == "STANDARD"
    assert described["tracingConfiguration"] == {"enabled": True}
    assert described["loggingConfiguration"]["level"] == "ERROR"


def test_cycle_functions_run_the_built_package_with_settings_the_code_reads(deployment: Deployment) -> None:
    functions = deployment.moto.client("lambda")
    outputs = deployment.outputs
    package = deployment.infra.parent / "build" / "costagent.zip"
    package_sha256 = base64.b64encode(hashlib.sha256(package.read_bytes()).digest()).decode()
    assert {f"{NAME_PREFIX}-{suffix}" for suffix in outputs["function_arns"]} == set(FUNCTIONS)
    for name, (module, _) in FUNCTIONS.items():
        configuration = functions.get_function_configuration(FunctionName=name)
        assert configuration["Handler"] == f"{module}.handler"
        assert configuration["Runtime"] == "python3.12"
        assert configuration["Role"] == outputs["lambda_role_arn"]
        assert configuration["CodeSha256"] == package_sha256
        assert configuration["TracingConfig"] == {"Mode": "Active"}
        settings = settings_from({"AWS_REGION": REGION, **configuration["Environment"]["Variables"]})
        assert (settings.audit_table, settings.lease_table, settings.idempotency_table) == (
            outputs["table_names"]["audit"],
            outputs["table_names"]["lease"],
            outputs["table_names"]["idempotency"],
        )
        assert settings.checkpoint_bucket == outputs["checkpoint_bucket"]
        assert (
            settings.mode_parameter(CYCLE_PIPELINE)
            == outputs["ssm_parameters"]["pipelines"][CYCLE_PIPELINE]["mode"]
        )
        assert settings.group_name(CYCLE_PIPELINE) == outputs["autoscaling_group_names"][CYCLE_PIPELINE]
    plan = functions.get_function_configuration(FunctionName=f"{NAME_PREFIX}-plan")
    assert (
        plan["Environment"]["Variables"]["COSTAGENT_ANTHROPIC_SECRET_ID"] == outputs["anthropic_secret_arn"]
    )


def test_tables_have_the_key_schemas_of_tables_json(deployment: Deployment) -> None:
    dynamodb = deployment.moto.client("dynamodb")
    for kind, name in deployment.outputs["table_names"].items():
        wanted = create_table_arguments(kind, name)
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert table["KeySchema"] == wanted["KeySchema"]
        assert sorted(table["AttributeDefinitions"], key=str) == sorted(
            wanted["AttributeDefinitions"], key=str
        )
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        indexes = {
            index["IndexName"]: (index["KeySchema"], index["Projection"]["ProjectionType"])
            for index in table.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == {
            index["IndexName"]: (index["KeySchema"], index["Projection"]["ProjectionType"])
            for index in wanted.get("GlobalSecondaryIndexes", [])
        }
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert (ttl["AttributeName"], ttl["TimeToLiveStatus"]) == (
            table_schemas()[kind]["ttl_attribute"],
            "ENABLED",
        )
        backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_pipelines_start_in_observe_mode_with_their_guardrails(deployment: Deployment) -> None:
    ssm = deployment.moto.client("ssm")
    parameters = deployment.outputs["ssm_parameters"]
    assert ssm.get_parameter(Name=parameters["kill_switch"])["Parameter"]["Value"] == "off"
    for pipeline_id, pipeline in PIPELINES.items():
        names = parameters["pipelines"][pipeline_id]
        assert ssm.get_parameter(Name=names["mode"])["Parameter"]["Value"] == "observe"
        guardrails = Guardrails.model_validate_json(
            ssm.get_parameter(Name=names["guardrails"])["Parameter"]["Value"]
        )
        assert guardrails.max_instances == pipeline["max_instances"]
        assert guardrails.allowed_instance_types == pipeline["allowed_instance_types"]


def test_groups_are_spot_only_capped_at_max_instances_and_tagged(deployment: Deployment) -> None:
    autoscaling = deployment.moto.client("autoscaling")
    names = deployment.outputs["autoscaling_group_names"]
    groups = {
        group["AutoScalingGroupName"]: group
        for group in autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=list(names.values()))[
            "AutoScalingGroups"
        ]
    }
    for pipeline_id, pipeline in PIPELINES.items():
        group = groups[names[pipeline_id]]
        assert group["MaxSize"] == pipeline["max_instances"]
        assert group["MinSize"] == pipeline["min_instances"]
        assert group["DesiredCapacity"] == pipeline.get("target_instances", pipeline["min_instances"])
        tags = {tag["Key"]: (tag["Value"], tag["PropagateAtLaunch"]) for tag in group["Tags"]}
        assert tags["ManagedBy"] == ("costagent", True)
        assert tags["costagent:pipeline"] == (pipeline_id, True)
        policy = group["MixedInstancesPolicy"]
        distribution = policy["InstancesDistribution"]
        assert distribution["OnDemandPercentageAboveBaseCapacity"] == 0
        assert distribution["SpotAllocationStrategy"] == "price-capacity-optimized"
        overrides = [override["InstanceType"] for override in policy["LaunchTemplate"]["Overrides"]]
        assert overrides == pipeline["allowed_instance_types"]


def test_checkpoint_bucket_is_versioned_encrypted_private_and_tls_only(deployment: Deployment) -> None:
    s3 = deployment.moto.client("s3")
    bucket = deployment.outputs["checkpoint_bucket"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert [statement["Sid"] for statement in policy["Statement"]] == ["DenyInsecureTransport"]
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert {rule["ID"] for rule in lifecycle} == {
        "expire-noncurrent-versions",
        *(f"expire-drill-scratch-{pipeline_id}" for pipeline_id in PIPELINES),
    }


def test_schedules_and_spot_rules_start_the_cycle(deployment: Deployment) -> None:
    scheduler = deployment.moto.client("scheduler")
    state_machine_arn = deployment.outputs["state_machine_arn"]
    for pipeline_id, pipeline in PIPELINES.items():
        schedule = scheduler.get_schedule(Name=f"{NAME_PREFIX}-{pipeline_id}")
        assert schedule["Arn"] == deployment.outputs["schedule_arns"][pipeline_id]
        assert schedule["ScheduleExpression"] == pipeline.get("schedule_rate", "rate(1 minute)")
        assert schedule["Target"]["Arn"] == state_machine_arn
        assert json.loads(schedule["Target"]["Input"])["detail"] == {"pipeline_id": pipeline_id}
    events = deployment.moto.client("events")
    for kind, detail_type in (
        ("interruption", "EC2 Spot Instance Interruption Warning"),
        ("rebalance", "EC2 Instance Rebalance Recommendation"),
    ):
        rule = events.describe_rule(Name=f"{NAME_PREFIX}-spot-{kind}")
        assert json.loads(rule["EventPattern"]) == {"source": ["aws.ec2"], "detail-type": [detail_type]}
        targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        assert [target["Arn"] for target in targets] == [state_machine_arn]


def test_alarms_dashboard_and_log_groups_exist(deployment: Deployment) -> None:
    cloudwatch = deployment.moto.client("cloudwatch")
    alarms = {alarm["AlarmName"] for alarm in cloudwatch.describe_alarms()["MetricAlarms"]}
    assert set(deployment.outputs["alarm_names"]) <= alarms
    dashboard = cloudwatch.get_dashboard(DashboardName=deployment.outputs["dashboard_name"])
    assert json.loads(dashboard["DashboardBody"])["widgets"]
    groups = deployment.moto.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/")[
        "logGroups"
    ]
    retention = {group["logGroupName"]: group.get("retentionInDays") for group in groups}
    assert {f"/aws/lambda/{name}": 30 for name in FUNCTIONS}.items() <= retention.items()


def test_without_enable_execution_the_functions_hold_no_write_permission(deployment: Deployment) -> None:
    iam = deployment.moto.client("iam")
    role = deployment.outputs["lambda_role_arn"].rsplit("/", 1)[-1]
    actions = set()
    for policy_name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        for statement in document["Statement"]:
            listed = statement["Action"]
            actions |= {listed} if isinstance(listed, str) else set(listed)
    writes = {
        "autoscaling:SetDesiredCapacity",
        "autoscaling:UpdateAutoScalingGroup",
        "ec2:RunInstances",
        "ssm:SendCommand",
    }
    assert actions & writes == set()
    assert "dynamodb:PutItem" in actions  # the policy was read, not just empty


# --- one cycle on the deployed stack ----------------------------------------------------------------


def _scheduler_input(schedule: dict[str, Any], sample: dict[str, Any]) -> dict[str, Any]:
    """The input Scheduler would pass: its context placeholders filled with the sample event's values."""
    text = schedule["Target"]["Input"]
    for placeholder, value in (
        ("<aws.scheduler.execution-id>", sample["id"]),
        ("<aws.scheduler.scheduled-time>", sample["time"]),
        ("<aws.scheduler.schedule-arn>", schedule["Arn"]),
    ):
        text = text.replace(placeholder, value)
    event: dict[str, Any] = json.loads(text)
    return event


def test_a_scheduled_cycle_on_the_deployed_stack_is_recorded_in_its_audit_table(
    deployment: Deployment,
) -> None:
    # given the schedule's input, as Scheduler would send it, and the environment Terraform gave the Lambdas
    sample = load_event("scheduled-event")
    schedule = deployment.moto.client("scheduler").get_schedule(Name=f"{NAME_PREFIX}-{CYCLE_PIPELINE}")
    event = _scheduler_input(schedule, sample)
    assert event == sample  # the schedule sends exactly what events/scheduled-event.json holds
    functions = deployment.moto.client("lambda")
    environment = {"AWS_REGION": REGION}  # set by the Lambda runtime, not by Terraform
    for name in FUNCTIONS:
        environment |= functions.get_function_configuration(FunctionName=name)["Environment"]["Variables"]

    # when the deployed state machine runs it, each deployed function's handler served in process
    with EmbeddedAws(
        settings=settings_from(environment),
        extra_environment=environment,
        moto_server_port=deployment.moto.port,
        state_machine_arn=deployment.outputs["state_machine_arn"],
    ) as aws:
        report = aws.run(event)
        record = the_record(aws, report)

    # then the whole cycle ran on the deployed resources and left its audit item in the deployed table
    assert report.status == "SUCCEEDED", f"{report.error}: {report.cause}"
    assert {"GatherState", "PlanWithRules", "ExecuteDecision", "RecordDecision"} <= set(report.states)
    assert record["errors"] == {}, json.dumps(record["errors"], indent=2)
    assert (record["pipeline_id"], record["trigger"], record["planner"]) == (
        CYCLE_PIPELINE,
        "scheduled",
        "rules",
    )
    # the workers gathered are the ones the group launched at apply, its desired capacity
    assert record["state"]["instance_count"] == PIPELINES[CYCLE_PIPELINE]["target_instances"]
    # and the pipeline only observes, as its mode parameter says: nothing ran
    assert (record["mode"], record["outcome"]) == ("observe", "observed")
    assert {action["status"] for action in record["actions"]} <= {"would_run"}


# --- destroy ----------------------------------------------------------------------------------------


def test_destroy_removes_everything_apply_created(deployment: Deployment) -> None:
    """Last in the file: the tests above read what this one removes."""
    # when (no refresh: apply read every resource back moments ago, and the cycle changed none of them)
    deployment.terraform("destroy", "-input=false", "-auto-approve", "-refresh=false", PARALLELISM)

    # then Terraform's state is empty and the server holds none of the stack's resources
    assert deployment.terraform("state", "list").stdout.strip() == ""
    moto = deployment.moto
    assert moto.client("stepfunctions").list_state_machines()["stateMachines"] == []
    assert moto.client("lambda").list_functions()["Functions"] == []
    assert moto.client("lambda").list_layers()["Layers"] == []
    assert moto.client("dynamodb").list_tables()["TableNames"] == []
    assert moto.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"] == []
    assert moto.client("ec2").describe_launch_templates()["LaunchTemplates"] == []
    running = [{"Name": "instance-state-name", "Values": ["pending", "running"]}]
    assert moto.client("ec2").describe_instances(Filters=running)["Reservations"] == []  # workers ended
    assert moto.client("ssm").describe_parameters()["Parameters"] == []
    assert moto.client("s3").list_buckets()["Buckets"] == []
    assert moto.client("scheduler").list_schedules()["Schedules"] == []
    assert moto.client("events").list_rules()["Rules"] == []
    assert moto.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert moto.client("cloudwatch").list_dashboards()["DashboardEntries"] == []
    assert moto.client("logs").describe_log_groups()["logGroups"] == []
    assert moto.client("sns").list_topics()["Topics"] == []
    assert moto.client("iam").list_roles()["Roles"] == []
    assert moto.client("iam").list_policies(Scope="Local")["Policies"] == []
    assert moto.client("secretsmanager").list_secrets()["SecretList"] == []
