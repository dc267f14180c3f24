"""The imperative shell of the review commands: read the audit trail from DynamoDB, change a pipeline's
mode in Parameter Store, and record every operator act in the audit trail.

`promote` to execute runs the observation gate on the trail as DynamoDB holds it (never on a file an
operator could edit) and changes the mode only when the gate passes; a refusal is recorded too. `--to
observe` (the rollback) always goes through at once. A sign-off is recorded the same way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from costagent.adapters.dynamodb import AuditStore
from costagent.adapters.ssm import SsmAdapter
from costagent.config import Settings
from costagent.models import CycleRecord, Mode, OperatorAction, Outcome, TriggerKind
from costagent.review.gate import GatePolicy, GateVerdict, evaluate_gate

NOTE_MAX_CHARS = 500  # a note is a sentence or two; the record stays small
OPERATOR_NAME_MAX_CHARS = 100


@dataclass(frozen=True)
class ModeChange:
    record: CycleRecord
    verdict: GateVerdict | None

    @property
    def granted(self) -> bool:
        return self.record.outcome is Outcome.ACTED


class Operator:
    """One operator session: the settings say which tables and parameters; clients may be injected."""

    def __init__(self, settings: Settings, *, dynamodb: Any = None, ssm: Any = None, sts: Any = None) -> None:
        self.settings = settings
        self.audit = AuditStore(settings.region, settings.audit_table, client=dynamodb)
        self.ssm = SsmAdapter(settings.region, client=ssm)
        self._sts = sts

    def identity(self) -> str:
        """The AWS identity running the command, recorded beside the name the operator gives."""
        from costagent.adapters.aws import aws_call, make_client

        client = self._sts or make_client("sts", self.settings.region)
        with aws_call("sts:GetCallerIdentity"):
            return str(client.get_caller_identity()["Arn"])

    def trail(self, pipeline_id: str, since: datetime | None = None) -> list[CycleRecord]:
        since_key = since.strftime("%Y-%m-%dT%H:%M:%SZ") if since else None
        records = self.audit.all_for(pipeline_id, since_cycle_id=since_key)
        return sorted(records, key=lambda r: (r.cycle_time, r.cycle_id))

    def kill_switch(self) -> str | None:
        """The global kill switch's value when it is engaged (anything but `off`), else None."""
        value = self.ssm.get_value(self.settings.kill_switch_parameter)
        return value if value is not None and value != "off" else None

    def current_mode(self, pipeline_id: str) -> Mode:
        value = self.ssm.get_value(self.settings.mode_parameter(pipeline_id))
        return Mode.EXECUTE if value == Mode.EXECUTE.value else Mode.OBSERVE

    def _record(
        self, pipeline_id: str, now: datetime, action: OperatorAction, outcome: Outcome, detail: str
    ) -> CycleRecord:
        record = CycleRecord(
            pipeline_id=pipeline_id,
            # Microseconds in the key: acts within one second (a sign-off, then a promotion) keep their order.
            cycle_id=f"{now:%Y-%m-%dT%H:%M:%S.%fZ}#operator:{action.kind}:{uuid.uuid4().hex[:12]}",
            cycle_time=now,
            trigger=TriggerKind.OPERATOR,
            trigger_detail=detail,
            mode=action.to_mode if outcome is Outcome.ACTED else action.from_mode,
            outcome=outcome,
            operator=action,
            expires_at=int((now + timedelta(days=self.settings.audit_ttl_days)).timestamp()),
        )
        self.audit.put(record)
        return record

    def sign_off(self, pipeline_id: str, by: str, note: str, now: datetime) -> CycleRecord:
        action = OperatorAction(
            kind="sign_off",
            by=f"{by[:OPERATOR_NAME_MAX_CHARS]} ({self.identity()})",
            note=note[:NOTE_MAX_CHARS],
        )
        return self._record(pipeline_id, now, action, Outcome.ACTED, f"review signed off by {by}")

    def change_mode(
        self,
        pipeline_id: str,
        to_mode: Mode,
        by: str,
        note: str,
        now: datetime,
        policy: GatePolicy | None = None,
    ) -> ModeChange:
        """To observe: at once. To execute: only when the observation gate passes; refused otherwise."""
        from_mode = self.current_mode(pipeline_id)
        who = f"{by[:OPERATOR_NAME_MAX_CHARS]} ({self.identity()})"
        parameter = self.settings.mode_parameter(pipeline_id)
        if to_mode is Mode.OBSERVE:
            self.ssm.put_value(parameter, Mode.OBSERVE.value, f"observe: rolled back by {by}")
            action = OperatorAction(
                kind="rollback", by=who, note=note[:NOTE_MAX_CHARS], from_mode=from_mode, to_mode=Mode.OBSERVE
            )
            detail = f"mode {from_mode.value} -> observe by {by}"
            return ModeChange(self._record(pipeline_id, now, action, Outcome.ACTED, detail), None)
        verdict = evaluate_gate(self.trail(pipeline_id), pipeline_id, now, policy)
        gate = verdict.as_dict()
        if verdict.passed:
            self.ssm.put_value(parameter, Mode.EXECUTE.value, f"execute: promoted by {by}")
            outcome, detail = Outcome.ACTED, f"mode {from_mode.value} -> execute by {by}: gate passed"
        else:
            names = ", ".join(c.name for c in verdict.failed())
            outcome, detail = Outcome.REFUSED, f"promotion to execute by {by} refused: {names}"
        action = OperatorAction(
            kind="promote",
            by=who,
            note=note[:NOTE_MAX_CHARS],
            from_mode=from_mode,
            to_mode=Mode.EXECUTE,
            granted=verdict.passed,
            gate=gate,
        )
        return ModeChange(self._record(pipeline_id, now, action, outcome, detail), verdict)
