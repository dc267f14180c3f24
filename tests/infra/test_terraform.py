"""The Terraform stack in infra/ is formatted and valid, checked offline with the real terraform binary.

`terraform init` uses only the provider mirror in /opt/tf-plugins (override with
COSTAGENT_TF_PLUGIN_DIR); nothing reaches the network. Without terraform on PATH these tests fail, since a
green run would otherwise say nothing about infra/; set COSTAGENT_SKIP_TERRAFORM=1 to skip them on purpose.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from costagent.local.runner import FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
PLUGIN_DIR = os.environ.get("COSTAGENT_TF_PLUGIN_DIR", "/opt/tf-plugins")
SKIP_REASON = "COSTAGENT_SKIP_TERRAFORM=1: Terraform checks skipped on purpose"


def _terraform() -> str:
    if os.environ.get("COSTAGENT_SKIP_TERRAFORM") == "1":
        pytest.skip(SKIP_REASON)
    binary = shutil.which("terraform")
    if binary is None:
        pytest.fail(
            "terraform is required for tests/infra: install Terraform >= 1.5 and put it on PATH, "
            "or set COSTAGENT_SKIP_TERRAFORM=1 to skip these tests on purpose",
            pytrace=False,
        )
    return binary


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",  # no version check against checkpoint-api.hashicorp.com
            "TF_CLI_CONFIG_FILE": str(tmp / "terraformrc"),
            "TF_DATA_DIR": str(tmp / ".terraform"),
        }
    )
    return env


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A copy of the repository parts infra/ reads (it points at ../functions and ../statemachine)."""
    tmp = tmp_path_factory.mktemp("terraform")
    (tmp / "terraformrc").write_text("")
    copy = tmp / "repo"
    shutil.copytree(INFRA, copy / "infra", ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    (copy / "functions" / "costagent").mkdir(parents=True)
    shutil.copy2(ROOT / "functions" / "costagent" / "tables.json", copy / "functions" / "costagent")
    shutil.copytree(ROOT / "statemachine", copy / "statemachine")
    # Stand-ins for scripts/build_lambda.sh's artifacts (validate does not read them; plan would).
    (copy / "build").mkdir()
    for name in ("costagent.zip", "costagent-layer.zip"):
        (copy / "build" / name).write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    yield copy / "infra", _env(tmp)


def test_infra_is_terraform_fmt_clean(workspace: tuple[Path, dict[str, str]]) -> None:
    binary = _terraform()
    _, env = workspace
    result = _run([binary, "fmt", "-check", "-recursive", "-diff", str(INFRA)], ROOT, env)
    assert result.returncode == 0, f"terraform fmt -check found changes:\n{result.stdout}{result.stderr}"


def test_infra_initialises_offline_and_validates(workspace: tuple[Path, dict[str, str]]) -> None:
    binary = _terraform()
    infra, env = workspace
    if not Path(PLUGIN_DIR).is_dir():
        pytest.fail(f"the offline provider mirror {PLUGIN_DIR} is missing (set COSTAGENT_TF_PLUGIN_DIR)")

    init = _run([binary, "init", "-backend=false", f"-plugin-dir={PLUGIN_DIR}", "-no-color"], infra, env)
    assert init.returncode == 0, f"terraform init failed:\n{init.stdout}{init.stderr}"

    validate = _run([binary, "validate", "-no-color"], infra, env)
    assert validate.returncode == 0, f"terraform validate failed:\n{validate.stdout}{validate.stderr}"
    assert "The configuration is valid" in validate.stdout


def test_lambda_map_mirrors_the_local_runner_functions() -> None:
    """Every runner.FUNCTIONS entry is deployed as <name_prefix>-<suffix> with the same handler module."""
    locals_tf = (INFRA / "locals.tf").read_text()
    deployed = {
        f"costagent-{suffix}": (module, placeholder)
        for suffix, module, placeholder in re.findall(
            r'^\s*([a-z-]+)\s*=\s*\{\s*module\s*=\s*"([^"]+)",\s*placeholder\s*=\s*"([^"]+)"', locals_tf, re.M
        )
    }
    assert deployed == FUNCTIONS


def test_state_machine_template_gets_every_placeholder() -> None:
    asl = (ROOT / "statemachine" / "cycle.asl.json").read_text()
    stepfunctions_tf = (INFRA / "stepfunctions.tf").read_text()
    wanted = set(re.findall(r"\$\{([a-z_]+)\}", asl))
    given = set(re.findall(r"^\s*([a-z_]+_function_arn)\s*=", stepfunctions_tf, re.M))
    assert wanted == given


def test_guardrails_parameter_fields_are_guardrails_fields() -> None:
    """ssm.tf's guardrails document carries only fields Guardrails accepts (it forbids extras)."""
    from costagent.guardrails import Guardrails

    ssm_tf = (INFRA / "ssm.tf").read_text()
    body = ssm_tf[ssm_tf.index("for key, value in {") : ssm_tf.index("} : key => value")]
    fields = set(re.findall(r"^\s*([a-z_]+)\s*=\s*p\.", body, re.M))
    assert fields
    assert fields <= set(Guardrails.model_fields)


def test_ssm_parameter_names_match_settings() -> None:
    """The parameter paths Terraform creates are the ones costagent.config reads."""
    ssm_tf = (INFRA / "ssm.tf").read_text()
    for suffix in ("/pipelines/${each.key}/mode", "/pipelines/${each.key}/guardrails", "/kill-switch"):
        assert f'"${{var.ssm_prefix}}{suffix}"' in ssm_tf
