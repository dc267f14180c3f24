"""The guardrails in infra/ exist and are wired to what they guard, read from the parsed HCL.

`terraform validate` proves the stack is well-formed, not that a group is still capped at the pipeline's
max_instances or that write permissions still wait for var.enable_execution. These tests parse every
infra/*.tf with python-hcl2 (no terraform, no AWS) and fail when a guardrail is removed, loosened or
disconnected. hcl2 returns an expression as the string "${...}"; `_expr` compares it with whitespace removed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2 import SerializationOptions

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
TABLES_JSON = ROOT / "functions" / "costagent" / "tables.json"

# Plain values instead of the round-trip markers hcl2 8 adds by default (quotes, __is_block__, comments).
HCL_OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)

# Fleet writes: anything on EC2 or Auto Scaling that is not a read, and Run Command on instances.
FLEET_SERVICES = ("ec2", "autoscaling")
READ_VERB_PREFIXES = ("Describe", "Get", "List")
# The only dynamic-block guard that keeps a statement out of the policy while var.enable_execution is false.
EXECUTION_GATE = re.compile(r"^var\.enable_execution\?\[.+\]:\[\]$")
# Fleet writes other roles may hold without enable_execution, each because it can only stop spending.
STOP_ONLY_FLEET_ACTIONS = {
    "autoscaling:SuspendProcesses": "BudgetStop suspends the group's launches at the budget limit",
}
POLICY_DOCUMENT_JSON = re.compile(r"^data\.aws_iam_policy_document\.(?P<name>[a-z0-9_]+)(\[[^\]]+\])?\.json$")
ENCRYPTION_ALGORITHMS = {"AES256", "aws:kms", "aws:kms:dsse"}
PUBLIC_ACCESS_SWITCHES = (
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
)


def _expr(value: object) -> str:
    """An attribute as comparable text: "${var.x ? [1] : []}" -> "var.x?[1]:[]"."""
    text = str(value)
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return re.sub(r"\s+", "", text)


def _strings(value: object) -> list[str]:
    """A list attribute, or a single expression standing for one."""
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _block(body: dict[str, Any], name: str) -> dict[str, Any]:
    """The one nested block `name` (hcl2 returns every block as a list)."""
    blocks: list[dict[str, Any]] = body.get(name, [])
    assert len(blocks) == 1, f"expected exactly one {name} block, found {len(blocks)}"
    return blocks[0]


def _dynamic(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The dynamic blocks generating `name`, each as {"for_each": ..., "content": [...]}."""
    return [dynamic[name] for dynamic in body.get("dynamic", []) if name in dynamic]


@dataclass(frozen=True)
class Statement:
    """One IAM statement of a policy document; `gate` is its dynamic block's for_each, None when static."""

    document: str
    body: dict[str, Any]
    gate: str | None

    @property
    def allows(self) -> bool:
        return _expr(self.body.get("effect", "Allow")) == "Allow"

    @property
    def actions(self) -> list[str]:
        return _strings(self.body.get("actions", []))

    @property
    def label(self) -> str:
        return f"{self.document}/{self.body.get('sid', '(no sid)')}"


@dataclass(frozen=True)
class Stack:
    """Every infra/*.tf merged: resources and data sources by (type, name), variables and locals by name."""

    resources: dict[tuple[str, str], dict[str, Any]]
    data: dict[tuple[str, str], dict[str, Any]]
    variables: dict[str, dict[str, Any]]
    locals: dict[str, Any]

    def resource(self, kind: str, name: str) -> dict[str, Any]:
        assert (kind, name) in self.resources, f"infra/ has no {kind}.{name}"
        return self.resources[(kind, name)]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: body for (rtype, name), body in self.resources.items() if rtype == kind}

    def statements(self) -> Iterator[Statement]:
        for (kind, name), body in self.data.items():
            if kind != "aws_iam_policy_document":
                continue
            for statement in body.get("statement", []):
                yield Statement(name, statement, None)
            for dynamic in _dynamic(body, "statement"):
                for content in dynamic["content"]:
                    yield Statement(name, content, _expr(dynamic["for_each"]))


def _by_type_and_name(blocks: list[dict[str, Any]], path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for block in blocks:
        for kind, named in block.items():
            for name, body in named.items():
                assert (kind, name) not in found, f"{kind}.{name} is declared twice ({path.name})"
                found[(kind, name)] = body
    return found


@pytest.fixture(scope="module")
def stack() -> Stack:
    resources: dict[tuple[str, str], dict[str, Any]] = {}
    data: dict[tuple[str, str], dict[str, Any]] = {}
    variables: dict[str, dict[str, Any]] = {}
    local_values: dict[str, Any] = {}
    for path in sorted(INFRA.glob("*.tf")):
        parsed = hcl2.loads(path.read_text(), serialization_options=HCL_OPTIONS)
        resources.update(_by_type_and_name(parsed.get("resource", []), path))
        data.update(_by_type_and_name(parsed.get("data", []), path))
        for block in parsed.get("variable", []):
            variables.update(block)
        for block in parsed.get("locals", []):
            local_values.update(block)
    return Stack(resources, data, variables, local_values)


def _is_fleet_write(action: str) -> bool:
    """Conservative: a wildcard counts as a write unless it stays inside the read verbs."""
    if action == "*":
        return True
    service, _, verb = action.partition(":")
    if service == "ssm":
        return re.fullmatch(verb.replace("*", ".*"), "SendCommand") is not None
    return service in FLEET_SERVICES and not verb.startswith(READ_VERB_PREFIXES)


def _document_name(policy: object) -> str:
    """The policy document a `policy` attribute renders (data.aws_iam_policy_document.<name>.json)."""
    match = POLICY_DOCUMENT_JSON.match(_expr(policy))
    assert match, f"{policy} is not the json of a data.aws_iam_policy_document"
    return match.group("name")


def _documents_of(stack: Stack, role: str) -> set[str]:
    """Names of the policy documents inlined into aws_iam_role.<role>."""
    return {
        _document_name(body["policy"])
        for body in stack.of_type("aws_iam_role_policy").values()
        if _expr(body["role"]) in (f"aws_iam_role.{role}.id", f"aws_iam_role.{role}.name")
    }


# --- Auto Scaling: a hard ceiling, spot only at a capped price, oldest out first, tagged at launch. ---


def test_group_size_is_capped_by_the_pipeline_max_instances(stack: Stack) -> None:
    group = stack.resource("aws_autoscaling_group", "pipeline")
    assert _expr(group["for_each"]) == "var.pipelines"
    assert _expr(group["max_size"]) == "each.value.max_instances"
    assert _expr(group["min_size"]) == "each.value.min_instances"


def test_terraform_restores_the_group_bounds_if_changed_outside_it(stack: Stack) -> None:
    """costagent may change desired capacity and the mix, never the bounds: Terraform must not ignore them."""
    ignored = _strings(
        _block(stack.resource("aws_autoscaling_group", "pipeline"), "lifecycle")["ignore_changes"]
    )
    assert not {"max_size", "min_size", "all"} & set(ignored)


def test_groups_run_spot_only_at_the_pipeline_max_price_with_price_capacity_optimized(stack: Stack) -> None:
    policy = _block(stack.resource("aws_autoscaling_group", "pipeline"), "mixed_instances_policy")
    distribution = _block(policy, "instances_distribution")
    assert distribution["on_demand_base_capacity"] == 0
    assert distribution["on_demand_percentage_above_base_capacity"] == 0
    assert _expr(distribution["spot_max_price"]) == "each.value.spot_max_price"
    assert distribution["spot_allocation_strategy"] == "price-capacity-optimized"


def test_groups_terminate_the_oldest_instance_first(stack: Stack) -> None:
    group = stack.resource("aws_autoscaling_group", "pipeline")
    assert group["termination_policies"] == ["OldestInstance"]


def test_stack_tags_say_managed_by_costagent(stack: Stack) -> None:
    """The IAM write conditions match ManagedBy=costagent; local.tags is where every resource gets it."""
    assert '{ManagedBy="costagent"}' in _expr(stack.locals["tags"])


def test_instances_get_managed_by_and_pipeline_tags_at_launch(stack: Stack) -> None:
    pipeline_tags = 'merge(local.tags,{"costagent:pipeline"=each.key})'
    (group_tags,) = _dynamic(stack.resource("aws_autoscaling_group", "pipeline"), "tag")
    assert _expr(group_tags["for_each"]) == pipeline_tags
    (content,) = group_tags["content"]
    assert (_expr(content["key"]), _expr(content["value"])) == ("tag.key", "tag.value")
    assert content["propagate_at_launch"] is True

    (specifications,) = _dynamic(stack.resource("aws_launch_template", "worker"), "tag_specifications")
    assert "instance" in specifications["for_each"]
    assert _expr(specifications["content"][0]["tags"]) == pipeline_tags


# --- Budgets: every pipeline with a budget gets an action that applies itself at 100 %. ---


def test_every_budgeted_pipeline_gets_a_budget_and_an_automatic_action(stack: Stack) -> None:
    assert re.fullmatch(
        r"\{forid,pinvar\.pipelines:id=>pifp\.budget_usd!=null\}", _expr(stack.locals["budgeted_pipelines"])
    )
    budget = stack.resource("aws_budgets_budget", "pipeline")
    action = stack.resource("aws_budgets_budget_action", "stop_growth")
    assert _expr(budget["for_each"]) == _expr(action["for_each"]) == "local.budgeted_pipelines"
    assert _expr(action["budget_name"]) == "aws_budgets_budget.pipeline[each.key].name"
    assert action["approval_model"] == "AUTOMATIC"
    assert action["notification_type"] == "ACTUAL"
    threshold = _block(action, "action_threshold")
    assert (threshold["action_threshold_type"], threshold["action_threshold_value"]) == ("PERCENTAGE", 100)


def test_budget_action_denies_the_functions_launching_workers(stack: Stack) -> None:
    action = stack.resource("aws_budgets_budget_action", "stop_growth")
    assert action["action_type"] == "APPLY_IAM_POLICY"
    applied = _block(_block(action, "definition"), "iam_action_definition")
    assert _expr(applied["policy_arn"]) == "aws_iam_policy.budget_deny[each.key].arn"
    assert [_expr(role) for role in applied["roles"]] == ["aws_iam_role.lambda.name"]
    assert _document_name(stack.resource("aws_iam_policy", "budget_deny")["policy"]) == "budget_deny"
    denied = {
        denied_action
        for statement in stack.statements()
        if statement.document == "budget_deny" and not statement.allows
        for denied_action in statement.actions
    }
    assert "ec2:RunInstances" in denied


# --- Modes: new pipelines observe, and the Lambdas cannot write unless enable_execution says so. ---


def test_new_pipelines_start_in_observe_mode_and_operators_own_the_switch(stack: Stack) -> None:
    mode = stack.resource("aws_ssm_parameter", "mode")
    assert _expr(mode["for_each"]) == "var.pipelines"
    assert mode["value"] == "observe"
    assert "value" in _block(mode, "lifecycle")["ignore_changes"]
    assert ("aws_ssm_parameter", "kill_switch") in stack.resources


def test_execution_is_disabled_unless_enable_execution_is_set(stack: Stack) -> None:
    variable = stack.variables["enable_execution"]
    assert _expr(variable["type"]) == "bool"
    assert variable["default"] is False


def test_cycle_functions_run_as_the_lambda_role_with_no_attached_policies(stack: Stack) -> None:
    """The gating test below reads the lambda role's inline policies; nothing else may grant it rights."""
    assert _expr(stack.resource("aws_lambda_function", "this")["role"]) == "aws_iam_role.lambda.arn"
    role = stack.resource("aws_iam_role", "lambda")
    assert "managed_policy_arns" not in role
    assert "inline_policy" not in role
    for kind in ("aws_iam_role_policy_attachment", "aws_iam_policy_attachment"):
        for name, body in stack.of_type(kind).items():
            assert "aws_iam_role.lambda." not in json.dumps(body), (
                f"{kind}.{name} attaches a policy to the role"
            )
    assert "lambda" in _documents_of(stack, "lambda")


def test_cycle_functions_get_fleet_writes_only_with_enable_execution(stack: Stack) -> None:
    writes = [
        statement
        for statement in stack.statements()
        if statement.document in _documents_of(stack, "lambda")
        and statement.allows
        and any(_is_fleet_write(action) for action in statement.actions)
    ]
    ungated = [statement.label for statement in writes if not EXECUTION_GATE.match(statement.gate or "")]
    assert not ungated, f"fleet writes granted without var.enable_execution: {ungated}"
    granted = {action for statement in writes for action in statement.actions}
    assert {
        "autoscaling:SetDesiredCapacity",
        "autoscaling:UpdateAutoScalingGroup",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
        "ec2:RunInstances",
        "ssm:SendCommand",
    } <= granted


def test_fleet_writes_only_reach_resources_tagged_managed_by_costagent(stack: Stack) -> None:
    """SendCommand also needs the RunShellScript document, which carries no tag; every other target must."""
    unscoped = []
    for statement in stack.statements():
        if not statement.allows or not any(_is_fleet_write(action) for action in statement.actions):
            continue
        resources = _strings(statement.body.get("resources", []))
        assert "*" not in resources, f"{statement.label} grants fleet writes on every resource"
        if all(":document/" in resource for resource in resources):
            continue
        conditions = statement.body.get("condition", [])
        if not any(
            condition["variable"].lower().endswith("resourcetag/managedby")
            and condition["values"] == ["costagent"]
            for condition in conditions
        ):
            unscoped.append(statement.label)
    assert not unscoped, f"fleet writes without a ManagedBy=costagent condition: {unscoped}"


def test_other_roles_hold_only_fleet_writes_that_stop_spending(stack: Stack) -> None:
    lambda_documents = _documents_of(stack, "lambda")
    extra = {
        f"{statement.label}: {action}"
        for statement in stack.statements()
        if statement.document not in lambda_documents and statement.allows
        for action in statement.actions
        if _is_fleet_write(action) and action not in STOP_ONLY_FLEET_ACTIONS
    }
    assert not extra, f"fleet writes outside the execution gate: {sorted(extra)}"


def test_operator_policies_read_the_trail_and_switch_only_the_mode_parameters(stack: Stack) -> None:
    """`costagent promote` is the way to execute mode; its policy writes nothing but the mode parameters
    and operator records, and the review policy only reads the audit trail."""
    for name in ("operator_review", "operator_promote"):
        assert _document_name(stack.resource("aws_iam_policy", name)["policy"]) == name
        assert "role" not in stack.resource("aws_iam_policy", name)  # attached to people, not to costagent

    def actions_and_resources(document: str) -> dict[str, list[str]]:
        return {
            action: [_expr(resource) for resource in _strings(statement.body["resources"])]
            for statement in stack.statements()
            if statement.document == document and statement.allows
            for action in statement.actions
        }

    assert actions_and_resources("operator_review") == {
        "dynamodb:Query": ['aws_dynamodb_table.this["audit"].arn']
    }
    promote = actions_and_resources("operator_promote")
    assert set(promote) == {"dynamodb:PutItem", "ssm:GetParameters", "ssm:PutParameter"}
    assert promote["ssm:PutParameter"] == ["[forparameterinaws_ssm_parameter.mode:parameter.arn]"]
    assert _strings(
        stack.data[("aws_iam_policy_document", "operator_promote")]["source_policy_documents"]
    ) == ["${data.aws_iam_policy_document.operator_review.json}"]


def test_no_policy_allows_every_action_of_a_service(stack: Stack) -> None:
    wildcards = [
        f"{statement.label}: {action}"
        for statement in stack.statements()
        if statement.allows
        for action in statement.actions
        if action == "*" or action.endswith(":*")
    ]
    not_actions = [
        statement.label
        for statement in stack.statements()
        if statement.allows and "not_actions" in statement.body
    ]
    assert not wildcards, f"Allow statements with a wildcard action: {wildcards}"
    assert not not_actions, f"Allow statements with not_actions (allow everything else): {not_actions}"


def test_every_policy_is_built_from_a_policy_document(stack: Stack) -> None:
    """Inline jsonencode() policies would escape the statement checks above."""
    inline = [
        f"{kind}.{name}.{attribute}"
        for (kind, name), body in stack.resources.items()
        for attribute in ("policy", "assume_role_policy")
        if attribute in body and not POLICY_DOCUMENT_JSON.match(_expr(body[attribute]))
    ]
    assert not inline, f"policies not from data.aws_iam_policy_document: {inline}"


# --- State: tables recoverable, encrypted and expiring; the checkpoint bucket private and versioned. ---


def test_dynamodb_tables_have_point_in_time_recovery_encryption_and_ttl(stack: Stack) -> None:
    tables = stack.of_type("aws_dynamodb_table")
    assert tables
    for name, table in tables.items():
        assert _block(table, "point_in_time_recovery")["enabled"] is True, name
        assert _block(table, "server_side_encryption")["enabled"] is True, name
        ttl = _block(table, "ttl")
        assert ttl["enabled"] is True, name
        assert _expr(ttl["attribute_name"]), name


def test_every_table_in_tables_json_names_its_ttl_attribute() -> None:
    """dynamodb.tf takes each table's TTL attribute from tables.json; without one, items never expire."""
    tables = json.loads(TABLES_JSON.read_text())
    assert {name: bool(table.get("ttl_attribute")) for name, table in tables.items()} == dict.fromkeys(
        tables, True
    )


def _bucket_settings(stack: Stack, kind: str, bucket: str) -> dict[str, Any]:
    matching = [
        body for body in stack.of_type(kind).values() if _expr(body["bucket"]) == f"aws_s3_bucket.{bucket}.id"
    ]
    assert len(matching) == 1, f"aws_s3_bucket.{bucket} needs exactly one {kind}, found {len(matching)}"
    return matching[0]


def _buckets(stack: Stack) -> list[str]:
    buckets = sorted(stack.of_type("aws_s3_bucket"))
    assert buckets
    return buckets


def test_buckets_are_versioned_and_encrypted(stack: Stack) -> None:
    for bucket in _buckets(stack):
        versioning = _bucket_settings(stack, "aws_s3_bucket_versioning", bucket)
        assert _block(versioning, "versioning_configuration")["status"] == "Enabled"
        encryption = _bucket_settings(stack, "aws_s3_bucket_server_side_encryption_configuration", bucket)
        default = _block(_block(encryption, "rule"), "apply_server_side_encryption_by_default")
        assert default["sse_algorithm"] in ENCRYPTION_ALGORITHMS


def test_buckets_block_every_kind_of_public_access(stack: Stack) -> None:
    for bucket in _buckets(stack):
        block = _bucket_settings(stack, "aws_s3_bucket_public_access_block", bucket)
        assert {switch: block.get(switch) for switch in PUBLIC_ACCESS_SWITCHES} == dict.fromkeys(
            PUBLIC_ACCESS_SWITCHES, True
        )


def test_buckets_refuse_requests_without_tls(stack: Stack) -> None:
    for bucket in _buckets(stack):
        policy = _bucket_settings(stack, "aws_s3_bucket_policy", bucket)["policy"]
        document = _document_name(policy)
        denials = [
            statement
            for statement in stack.statements()
            if statement.document == document and not statement.allows and statement.gate is None
        ]
        assert any(
            statement.actions == ["s3:*"]
            and {_expr(resource) for resource in statement.body["resources"]}
            == {f"aws_s3_bucket.{bucket}.arn", f"${{aws_s3_bucket.{bucket}.arn}}/*"}
            and any(
                (condition["test"], condition["variable"], condition["values"])
                == ("Bool", "aws:SecureTransport", ["false"])
                for condition in statement.body.get("condition", [])
            )
            for statement in denials
        ), f"aws_s3_bucket.{bucket}'s policy does not deny s3:* on the bucket and its objects without TLS"


def test_buckets_expire_noncurrent_versions_and_abandoned_uploads(stack: Stack) -> None:
    for bucket in _buckets(stack):
        rules = _bucket_settings(stack, "aws_s3_bucket_lifecycle_configuration", bucket)["rule"]
        enabled = [rule for rule in rules if rule["status"] == "Enabled"]
        assert any("noncurrent_version_expiration" in rule for rule in enabled), bucket
        assert any("abort_incomplete_multipart_upload" in rule for rule in enabled), bucket
