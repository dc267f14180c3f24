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
