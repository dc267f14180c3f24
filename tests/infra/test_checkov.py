"""checkov finds nothing in infra/ that is neither fixed nor skipped in place with a reason.

checkov runs from its own venv (`make tools` installs the version pinned in the Makefile into .venv-tools;
`make test` does it first and passes the binary as COSTAGENT_CHECKOV), since its dependencies clash with the
project's pins. It runs offline: `--skip-download`, no API key, no mapping download, no PyPI update check.
Without checkov these tests fail, since a green run would otherwise say nothing about infra/; set
COSTAGENT_SKIP_CHECKOV=1 to skip them on purpose. A run over infra/ takes about 8 s.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
TOOLS_CHECKOV = ROOT / ".venv-tools" / "bin" / "checkov"
SKIP_REASON = "COSTAGENT_SKIP_CHECKOV=1: checkov skipped on purpose"
CHECKOV_TIMEOUT_SECONDS = 300  # a run takes ~8 s; the margin is for slow CI machines
# Environment variables that would make checkov talk to the Bridgecrew / Prisma Cloud platform.
PLATFORM_VARIABLES = ("BC_API_KEY", "PRISMA_API_URL", "BC_API_URL")
# What checkov records for `#checkov:skip=CKV_...` written without a reason.
CHECKOV_DEFAULT_SKIP_COMMENT = "No comment provided"
SKIP_COMMENT = re.compile(r"#\s*checkov:skip=([A-Za-z0-9_]+)(?::(.*))?")


def _checkov() -> str:
    if os.environ.get("COSTAGENT_SKIP_CHECKOV") == "1":
        pytest.skip(SKIP_REASON)
    binary = os.environ.get("COSTAGENT_CHECKOV") or str(TOOLS_CHECKOV)
    if not Path(binary).is_file():
        pytest.fail(
            f"checkov is required for tests/infra and was not found at {binary}: run `make tools` "
            "(installs the pinned checkov into .venv-tools), or point COSTAGENT_CHECKOV at a checkov "
            "executable, or set COSTAGENT_SKIP_CHECKOV=1 to skip it on purpose",
            pytrace=False,
        )
    return binary


def _offline_env() -> dict[str, str]:
    """The caller's environment, minus platform credentials, plus the switches that keep checkov offline."""
    env = {key: value for key, value in os.environ.items() if key not in PLATFORM_VARIABLES}
    env.update(
        {
            "BC_SKIP_MAPPING": "TRUE",  # no download of the check-id mapping from the platform
            "CKV_SKIP_PACKAGE_UPDATE_CHECK": "True",  # no "newer checkov on PyPI" query at import
        }
    )
    return env


def _terraform_report(output: str) -> dict[str, Any]:
    """checkov prints one report object per framework, or a list of them; keep the terraform one."""
    parsed = json.loads(output)
    reports = parsed if isinstance(parsed, list) else [parsed]
    terraform: list[dict[str, Any]] = [
        report for report in reports if report.get("check_type") == "terraform"
    ]
    assert terraform, f"checkov produced no terraform report (did it find infra/*.tf?):\n{output[:2000]}"
    return terraform[0]


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, Any]:
    binary = _checkov()
    command = [
        binary,
        "--directory",
        str(INFRA),
        "--framework",
        "terraform",
        "--skip-download",
        "--download-external-modules",
        "false",
        "--output",
        "json",
        "--soft-fail",  # failed checks are asserted below; a non-zero exit means checkov itself broke
    ]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=_offline_env(),
        capture_output=True,
        text=True,
        timeout=CHECKOV_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"checkov exited {result.returncode}:\n{result.stderr[-4000:]}"
    return _terraform_report(result.stdout)


def test_checkov_parses_every_terraform_file(checkov_report: dict[str, Any]) -> None:
    """A file checkov cannot parse is silently left unchecked, so a parse error fails the run."""
    summary = checkov_report["summary"]
    assert summary["parsing_errors"] == 0, checkov_report["results"].get("parsing_errors")
    assert summary["resource_count"] > 0


def test_checkov_reports_no_failed_check_in_infra(checkov_report: dict[str, Any]) -> None:
    failed = checkov_report["results"]["failed_checks"]
    findings = "\n".join(
        f"  {check['check_id']} {check['resource']} (infra{check['file_path']}:"
        f"{check['file_line_range'][0]}): {check['check_name']}"
        for check in failed
    )
    assert not failed, (
        f"checkov {checkov_report['summary']['checkov_version']} found {len(failed)} failed checks; fix each "
        "in the .tf file, or skip it inside the resource with `#checkov:skip=CKV_AWS_NNN:why it does not "
        f"apply`:\n{findings}"
    )


def test_every_check_checkov_skipped_gives_a_reason(checkov_report: dict[str, Any]) -> None:
    unexplained = [
        f"{check['check_id']} {check['resource']} (infra{check['file_path']})"
        for check in checkov_report["results"]["skipped_checks"]
        if (check["check_result"].get("suppress_comment") or "").strip() in ("", CHECKOV_DEFAULT_SKIP_COMMENT)
    ]
    assert not unexplained, "checkov skips without a reason (write `#checkov:skip=ID:reason`):\n" + "\n".join(
        unexplained
    )


def test_every_checkov_skip_comment_in_infra_gives_a_reason() -> None:
    """Reads the comments themselves, so skips checkov never reports (their check passes, or the comment sits
    outside any resource) are held to the same rule; runs without checkov."""
    unexplained = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(INFRA.glob("*.tf"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if (match := SKIP_COMMENT.search(line)) and not (match.group(2) or "").strip()
    ]
    assert not unexplained, "checkov skip comments without a reason:\n" + "\n".join(unexplained)
