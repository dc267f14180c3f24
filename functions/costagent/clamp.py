"""clamp_decision: any proposal at all in, a decision every guardrail agrees with out.

Planners (rules, Claude, cached) may hand over anything: a dict, an AgentDecision, null, a list, NaN
counts, "7", unknown keys. Clamp reads each field leniently, replaces what it cannot use with the safe
value (WAIT, the current fleet, the default type), then runs the policy rules in `clamp_rules`. Every
change is a ClampEvent whose reason is a sentence, so the audit record says why the executor did less
than the planner asked. Pure and total: no I/O, no clock, and it never raises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from costagent.clamp_rules import (
    HOLDING_ACTIONS,
    POLICY_RULES,
    RULE_INVALID_ACTION,
    RULE_INVALID_CAPACITY_TYPE,
    RULE_INVALID_COUNT,
    RULE_INVALID_SHOULD_CHECKPOINT,
    RULE_ON_DEMAND_NOT_ALLOWED,
    RULE_REASONING,
    RULE_UNKNOWN_INSTANCE_TYPE,
    RULE_UNREADABLE_PROPOSAL,
    RULE_VALIDATOR_ERROR,
    Draft,
    Fleet,
    clamp_event,
    describe,
)
from costagent.guardrails import REASONING_MAX_CHARS, Guardrails
from costagent.models import Action, CapacityType, ClampEvent, ClampResult, PipelineState, ValidDecision

__all__ = ["clamp_decision"]

QUOTE_MAX_CHARS = 60  # a proposed value quoted in a reason keeps the reason to one readable line
NO_REASONING = "(no reasoning given)"  # an explicit note reads better in the audit than a blank
VALIDATOR_ERROR_REASONING = "(the validator failed; waiting this cycle)"
COUNT_CEILING = 10**18  # far above any max_instances; stops a Decimal like 1e999999 becoming a huge int
SPELLING_NOISE = re.compile(r"[\s_-]+")  # "scale-up", "Scale Up" and "on_demand" name the same thing
COUNT_TEXT = re.compile(r"\+?([0-9]{1,30})(?:\.[0-9]*)?")  # "7", "+7", "7.5"; longer is no count
# C0/C1 control characters except newline (paragraphs help operators), and lone surrogates, which
# JSON allows but the UTF-8 of a DynamoDB write does not.
UNWANTED_REASONING_CHARS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
ACTION_SPELLINGS = {action.value.replace("_", ""): action for action in Action}
CAPACITY_SPELLINGS = {"spot": CapacityType.SPOT, "ondemand": CapacityType.ON_DEMAND}
FLAG_SPELLINGS = {"true": True, "false": False, "1": True, "0": False}


def clamp_decision(proposal: object, state: PipelineState, guardrails: Guardrails) -> ClampResult:
    """The decision the executor may act on, and one ClampEvent for every change made to `proposal`.

    `instance_count` is the target size after the action; WAIT and CHECKPOINT keep the fleet as it is.
    """
    try:
        return _clamp(proposal, state, guardrails)
    except Exception as error:  # a validator bug must cost one cycle of inaction, never the cycle
        return _validator_error_result(error, state, guardrails)


def _clamp(proposal: object, state: PipelineState, guardrails: Guardrails) -> ClampResult:
    fleet = Fleet.of(state, guardrails)
    fields = _proposal_fields(proposal)
    if fields is None:
        draft, events = _unreadable_draft(proposal, fleet)
    else:
        draft, events = _read_draft(fields, fleet, guardrails)
    for rule in POLICY_RULES:
        draft, rule_events = rule(draft, fleet, state, guardrails)
        events += rule_events
    return ClampResult(decision=_valid_decision(draft), clamps=events)


def _proposal_fields(proposal: object) -> Mapping[Any, object] | None:
    if isinstance(proposal, BaseModel):  # an AgentDecision, or a stored ValidDecision being replayed
        return proposal.model_dump(mode="json")
    if isinstance(proposal, Mapping):
        return proposal
    return None


def _unreadable_draft(proposal: object, fleet: Fleet) -> tuple[Draft, list[ClampEvent]]:
    draft = Draft(
        action=Action.WAIT,
        instance_type=fleet.fill_type,
        capacity_type=fleet.fill_capacity,
        instance_count=fleet.count,
        should_checkpoint=False,
        should_checkpoint_given=False,
        reasoning=NO_REASONING,
    )
    kind = "null" if proposal is None else f"a {type(proposal).__name__}"
    reason = f"the proposal is {kind}, not an object with an action; waiting instead"
    return draft, [clamp_event(RULE_UNREADABLE_PROPOSAL, "proposal", proposal, Action.WAIT, reason)]


def _read_draft(
    fields: Mapping[Any, object], fleet: Fleet, guardrails: Guardrails
) -> tuple[Draft, list[ClampEvent]]:
    # JSON null and a missing key mean the same: the planner did not say.
    action, events = _read_action(fields.get("action"))
    instance_type, type_events = _read_instance_type(fields.get("instance_type"), action, fleet, guardrails)
    capacity_type, capacity_events = _read_capacity_type(
        fields.get("capacity_type"), action, fleet, guardrails
    )
    instance_count, count_events = _read_instance_count(fields.get("instance_count"), action, fleet)
    should_checkpoint, given, flag_events = _read_should_checkpoint(fields.get("should_checkpoint"))
    reasoning, reasoning_events = _read_reasoning(fields.get("reasoning"))
    draft = Draft(
        action=action,
        instance_type=instance_type,
        capacity_type=capacity_type,
        instance_count=instance_count,
        should_checkpoint=should_checkpoint,
        should_checkpoint_given=given,
        reasoning=reasoning,
    )
    events += type_events + capacity_events + count_events + flag_events + reasoning_events
    return draft, events


def _spelling(raw: str) -> str:
    return SPELLING_NOISE.sub("", raw).lower()


def _what_is_wrong(raw: object, expected: str) -> str:
    return "missing" if raw is None else f"{describe(raw, QUOTE_MAX_CHARS)}, not {expected}"


def _read_action(raw: object) -> tuple[Action, list[ClampEvent]]:
    action = ACTION_SPELLINGS.get(_spelling(raw).upper()) if isinstance(raw, str) else None
    if action is not None:
        return action, []
    names = ", ".join(a.value for a in Action)
    reason = f"action is {_what_is_wrong(raw, f'one of {names}')}; waiting instead"
    return Action.WAIT, [clamp_event(RULE_INVALID_ACTION, "action", raw, Action.WAIT, reason)]


def _read_instance_type(
    raw: object, action: Action, fleet: Fleet, guardrails: Guardrails
) -> tuple[str, list[ClampEvent]]:
    allowed = guardrails.allowed_instance_types
    if isinstance(raw, str) and raw in allowed:
        return allowed[allowed.index(raw)], []
    if raw is None and action in HOLDING_ACTIONS:  # the type does not matter to a WAIT or CHECKPOINT
        return fleet.fill_type, []
    default = guardrails.default_instance_type
    wrong = _what_is_wrong(raw, "in allowed_instance_types")
    reason = f"instance_type is {wrong}; using the default {default}"
    return default, [clamp_event(RULE_UNKNOWN_INSTANCE_TYPE, "instance_type", raw, default, reason)]


def _read_capacity_type(
    raw: object, action: Action, fleet: Fleet, guardrails: Guardrails
) -> tuple[CapacityType, list[ClampEvent]]:
    capacity = CAPACITY_SPELLINGS.get(_spelling(raw)) if isinstance(raw, str) else None
    if capacity is None:
        fill = fleet.fill_capacity
        if raw is None and action in HOLDING_ACTIONS:
            return fill, []
        reason = f"capacity_type is {_what_is_wrong(raw, 'spot or on-demand')}; using {fill.value}"
        return fill, [clamp_event(RULE_INVALID_CAPACITY_TYPE, "capacity_type", raw, fill, reason)]
    if capacity is CapacityType.ON_DEMAND and not guardrails.allow_on_demand:
        reason = "on-demand capacity is not allowed for this pipeline (allow_on_demand is false); using spot"
        event = clamp_event(RULE_ON_DEMAND_NOT_ALLOWED, "capacity_type", raw, CapacityType.SPOT, reason)
        return CapacityType.SPOT, [event]
    return capacity, []


def _coerce_count(raw: object) -> tuple[int | None, bool]:
    """(count, exact): count is None when `raw` is no count at all; exact is False when it was coerced."""
    if isinstance(raw, bool):  # JSON true is not 1 instance
        return None, False
    if isinstance(raw, int):
        return (int(raw), True) if raw >= 0 else (None, False)
    if isinstance(raw, float):
        if not math.isfinite(raw) or raw < 0:
            return None, False
        return math.floor(raw), raw.is_integer()
    if isinstance(raw, Decimal):  # what DynamoDB hands back for numbers
        if not raw.is_finite() or raw < 0:
            return None, False
        whole = int(min(raw, Decimal(COUNT_CEILING)))
        return whole, whole == raw
    match = COUNT_TEXT.fullmatch(raw.strip()) if isinstance(raw, str) else None
    return (int(match.group(1)), False) if match else (None, False)


def _read_instance_count(raw: object, action: Action, fleet: Fleet) -> tuple[int, list[ClampEvent]]:
    if raw is None and action in HOLDING_ACTIONS:
        return fleet.count, []
    count, exact = _coerce_count(raw)
    if count is None:
        reason = (
            f"instance_count is {_what_is_wrong(raw, 'a non-negative whole number')}; "
            f"using the current {fleet.count}"
        )
        return fleet.count, [clamp_event(RULE_INVALID_COUNT, "instance_count", raw, fleet.count, reason)]
    if exact:
        return count, []
    reason = (
        f"instance_count {describe(raw, QUOTE_MAX_CHARS)} is not an integer; "
        f"read as {describe(count, QUOTE_MAX_CHARS)}"
    )
    return count, [clamp_event(RULE_INVALID_COUNT, "instance_count", raw, count, reason)]


def _read_should_checkpoint(raw: object) -> tuple[bool, bool, list[ClampEvent]]:
    """(flag, given, events): given is True when the proposal itself said true or false."""
    if raw is None:
        return False, False, []
    if isinstance(raw, bool):
        return raw, True, []
    flag: bool | None = None
    if isinstance(raw, str):
        flag = FLAG_SPELLINGS.get(raw.strip().lower())
    elif isinstance(raw, int) and raw in (0, 1):
        flag = bool(raw)
    quoted = describe(raw, QUOTE_MAX_CHARS)
    given = flag is not None
    if flag is None:
        flag, reason = False, f"should_checkpoint {quoted} is not true or false; using false"
    else:
        reason = f"should_checkpoint {quoted} is not a boolean; read as {str(flag).lower()}"
    return flag, given, [clamp_event(RULE_INVALID_SHOULD_CHECKPOINT, "should_checkpoint", raw, flag, reason)]


def _text_of(raw: object) -> str:
    try:
        return str(raw)
    except Exception:  # a hostile __str__, or an int too long to print
        return describe(raw)


def _read_reasoning(raw: object) -> tuple[str, list[ClampEvent]]:
    if raw is None:
        return NO_REASONING, []
    events: list[ClampEvent] = []
    if isinstance(raw, str):
        text = str.__str__(raw)
    else:
        text = _text_of(raw)
        reason = f"reasoning is a {type(raw).__name__}, not text; stored as its text"
        events.append(clamp_event(RULE_REASONING, "reasoning", raw, text, reason))
    cleaned = UNWANTED_REASONING_CHARS.sub("", text)
    if cleaned != text:
        reason = f"reasoning held {len(text) - len(cleaned)} control character(s); removed them"
        events.append(clamp_event(RULE_REASONING, "reasoning", text, cleaned, reason))
    if len(cleaned) > REASONING_MAX_CHARS:
        cut = cleaned[:REASONING_MAX_CHARS]
        reason = f"reasoning is {len(cleaned)} characters, above the {REASONING_MAX_CHARS} kept; cut to fit"
        events.append(clamp_event(RULE_REASONING, "reasoning", cleaned, cut, reason))
        cleaned = cut
    return cleaned, events


def _valid_decision(draft: Draft) -> ValidDecision:
    return ValidDecision(
        action=draft.action,
        instance_type=draft.instance_type,
        capacity_type=draft.capacity_type,
        instance_count=draft.instance_count,
        should_checkpoint=draft.should_checkpoint,
        reasoning=draft.reasoning,
    )


def _validator_error_result(error: Exception, state: PipelineState, guardrails: Guardrails) -> ClampResult:
    # Only facts that cannot fail: spot is always allowed, the default type always is.
    decision = ValidDecision(
        action=Action.WAIT,
        instance_type=guardrails.default_instance_type,
        capacity_type=CapacityType.SPOT,
        instance_count=len(state.active_instances),
        should_checkpoint=False,
        reasoning=VALIDATOR_ERROR_REASONING,
    )
    reason = (
        f"the validator failed ({type(error).__name__}), so this cycle waits; this is a bug in "
        "costagent.clamp: report it with this cycle's audit record"
    )
    event = ClampEvent(
        rule=RULE_VALIDATOR_ERROR, field="decision", proposed=describe(error), applied="WAIT", reason=reason
    )
    return ClampResult(decision=decision, clamps=[event])
