"""The Step Functions state document: what each state adds, under its own ResultPath.

Each Lambda receives the whole document and returns only its own part. Errors caught by a Catch sit
under `<step>_error` as {"Error", "Cause"}.
"""

from __future__ import annotations

from typing import Any

from costagent.models import (
    CheckpointResult,
    ClampResult,
    Contract,
    ExecutionResult,
    GatherResult,
    PlanResult,
    StepError,
    Trigger,
)


class CycleDocument(Contract):
    event: Any = None
    execution_name: str | None = None
    trigger: Trigger | None = None
    trigger_error: StepError | None = None
    checkpoint: CheckpointResult | None = None
    checkpoint_error: StepError | None = None
    record_checkpoint_error: StepError | None = None
    gathered: GatherResult | None = None
    gather_error: StepError | None = None
    plan: PlanResult | None = None
    plan_error: StepError | None = None
    fallback_error: StepError | None = None
    clamped: ClampResult | None = None
    clamp_error: StepError | None = None
    executed: ExecutionResult | None = None
    execute_error: StepError | None = None

    def lease_holder(self) -> str:
        """Who holds the pipeline's lease for this document: its execution."""
        if self.execution_name:
            return self.execution_name
        return self.trigger.cycle_id if self.trigger else "unknown"

    def checkpoint_requested(self) -> bool:
        """Whether CheckpointNow asked the workers to save (or, observing, recorded that it would)."""
        if self.checkpoint is None:
            return False
        return any(a.status in ("done", "would_run") for a in self.checkpoint.actions)

    def errors(self) -> dict[str, StepError]:
        found: dict[str, StepError] = {}
        steps = (
            "trigger",
            "checkpoint",
            "record_checkpoint",
            "gather",
            "plan",
            "fallback",
            "clamp",
            "execute",
        )
        for step in steps:
            error = getattr(self, f"{step}_error")
            if error is not None:
                found[step] = error
        return found
