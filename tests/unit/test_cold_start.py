"""Handlers that do not plan must not pay for the anthropic SDK at cold start."""

from __future__ import annotations

import subprocess
import sys

import pytest

NON_PLANNING_HANDLERS = [
    "costagent.handlers.read_trigger",
    "costagent.handlers.checkpoint_now",
    "costagent.handlers.gather_state",
    "costagent.handlers.clamp",
    "costagent.handlers.execute",
    "costagent.handlers.record",
    "costagent.handlers.budget_stop",
]


@pytest.mark.parametrize("module", NON_PLANNING_HANDLERS)
def test_handler_module_does_not_import_anthropic_or_moto(module: str) -> None:
    probe = (
        f"import sys, {module}; "
        "bad = sorted(m for m in ('anthropic', 'moto', 'hypothesis') if m in sys.modules); "
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_plan_handler_loads_anthropic_only_when_a_pipeline_plans_with_claude() -> None:
    probe = (
        "import sys, costagent.handlers.plan; before = 'anthropic' in sys.modules; "
        "from costagent.handlers import _runtime; from costagent.config import LlmSettings; "
        "from costagent.adapters.claude import make_claude_client; "
        "make_claude_client(LlmSettings(api_key='sk-test'), region='us-east-1'); "
        "print(before, 'anthropic' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]
