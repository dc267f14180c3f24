"""`costagent` command line: run one execution, clamp a proposal, or run the demo, all on embedded AWS;
and the worker contract's commands (`worker ...`, `drill`; `costagent.worker_cli`), which reach real AWS."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

EXIT_UNREADABLE_INPUT = 2


class UnreadableInput(Exception):
    """A file the command needs is missing or not what it should be; exit code 2."""


def _read_json(path: str, what: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UnreadableInput(f"cannot read {what} file {path}: {error.strerror or error}") from error
    try:
        return json.loads(text)
    except ValueError as error:
        raise UnreadableInput(f"{what} file {path} is not JSON ({error})") from error


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


# --- run ------------------------------------------------------------------------------------------


def _event_time(event: Any) -> datetime:
    if isinstance(event, dict) and isinstance(event.get("time"), str):
        try:
            moment = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    return datetime.now(timezone.utc).replace(microsecond=0)


def command_run(args: argparse.Namespace) -> int:
    event = _read_json(args.event, "event")
    from costagent.local.runner import EmbeddedAws
    from costagent.local.world import build_world

    with EmbeddedAws() as aws:
        world = build_world(aws, _event_time(event), mode=args.mode)
        report = aws.run(event)
        output = report.output or {}
        audit_key = output.get("audit") or {}
        record = None
        if audit_key:
            stored = aws.client("dynamodb").get_item(
                TableName=aws.settings.audit_table,
                Key={
                    "pipeline_id": {"S": audit_key["pipeline_id"]},
                    "cycle_id": {"S": audit_key["cycle_id"]},
                },
            )
            record = json.loads(stored["Item"]["record"]["S"]) if "Item" in stored else None
        gathered = output.get("gathered") or {}
        clamped = output.get("clamped") or {}
        result = {
            "status": report.status,
            "execution": report.name,
            "states": report.states,
            "state": gathered.get("state"),
            "decision": clamped.get("decision"),
            "clamps": clamped.get("clamps", []),
            "audit": record,
            "error": report.error,
            "wall_seconds": report.wall_seconds,
        }
        del world
    if args.json:
        print_json(result)
    else:
        _print_run(result)
    return 0 if report.status == "SUCCEEDED" else 1


def _print_run(result: dict[str, Any]) -> None:
    print(f"execution {result['execution']}: {result['status']} in {result['wall_seconds']:.2f} s")
    print("states:   " + " -> ".join(result["states"]))
    state = result.get("state")
    if state:
        count, done = len(state["active_instances"]), state["pipeline_progress"]
        print(
            f"state:    {count} instance(s), progress {done:.0%}, "
            f"{state['minutes_since_checkpoint']} min since checkpoint, "
            f"budget left {state['budget_remaining']}, mode {state['mode']}"
        )
        for notice in state.get("termination_notices", []):
            print(f"          notice: {notice['kind']} for {notice['instance_id']}")
    decision = result.get("decision")
    if decision:
        print(
            f"decision: {decision['action']} {decision['instance_count']} x {decision['instance_type']} "
            f"({decision['capacity_type']}), checkpoint={decision['should_checkpoint']}"
        )
        print(f"          {decision['reasoning']}")
    for clamp in result.get("clamps", []):
        print(f"clamp:    [{clamp['rule']}] {clamp['reason']}")
    audit = result.get("audit")
    if audit:
        print(f"audit:    {audit['pipeline_id']} / {audit['cycle_id']}: outcome {audit['outcome']}")
        print(f"          trigger {audit['trigger']}: {audit['trigger_detail']}")
        if audit.get("checkpoint"):
            for action in audit["checkpoint"]["actions"]:
                print(f"          checkpoint first: {action['status']} {action['detail']}")
        for action in audit.get("actions", []):
            print(f"          action: {action['kind']} {action['status']}: {action['detail']}")
        for step, error in audit.get("errors", {}).items():
            print(f"          error in {step}: {error.get('error')}")


# --- clamp ----------------------------------------------------------------------------------------


def _state_and_guardrails(args: argparse.Namespace) -> tuple[Any, Any]:
    """The `--state` file and the `--guardrails` file (default: the default world's), or UnreadableInput."""
    from costagent.guardrails import Guardrails
    from costagent.local.world import default_guardrails
    from costagent.models import PipelineState

    try:
        state = PipelineState.model_validate(_read_json(args.state, "state"))
    except ValidationError as error:
        raise UnreadableInput(
            f"state file {args.state} is not a pipeline state: {_first_error(error)}"
        ) from error
    guardrails = default_guardrails()
    if args.guardrails:
        try:
            guardrails = Guardrails.model_validate(_read_json(args.guardrails, "guardrails"))
        except ValidationError as error:
            raise UnreadableInput(
                f"guardrails file {args.guardrails} is not valid: {_first_error(error)}"
            ) from error
    return state, guardrails


def command_clamp(args: argparse.Namespace) -> int:
    from costagent.clamp import clamp_decision

    state, guardrails = _state_and_guardrails(args)
    try:
        proposal_text = Path(args.decision).read_text(encoding="utf-8")
    except OSError as error:
        raise UnreadableInput(
            f"cannot read decision file {args.decision}: {error.strerror or error}"
        ) from error
    try:
        proposal: Any = json.loads(proposal_text)
    except ValueError:
        proposal = proposal_text  # an ill-formed proposal is still a proposal: the clamp makes it safe
    result = clamp_decision(proposal, state, guardrails)
    print_json(
        {
            "decision": result.decision.model_dump(mode="json"),
            "clamps": [c.model_dump(mode="json") for c in result.clamps],
        }
    )
    return 0


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))


# --- plan -----------------------------------------------------------------------------------------


def command_plan(args: argparse.Namespace) -> int:
    from costagent.config import get_settings
    from costagent.document import CycleDocument
    from costagent.models import GatherResult, LeaseInfo
    from costagent.planning import plan_cycle

    state, guardrails = _state_and_guardrails(args)
    guardrails = guardrails.model_copy(update={"planner": args.planner})
    llm = get_settings().llm.model_copy(update={"reuse": False})  # a one-off question: always ask
    if args.planner == "claude" and not llm.configured:
        print(
            "costagent plan: Claude is not configured (set ANTHROPIC_API_KEY, or "
            "COSTAGENT_LLM_PROVIDER=bedrock); showing the rules planner's fallback decision.",
            file=sys.stderr,
        )
    document = CycleDocument(
        gathered=GatherResult(state=state, guardrails=guardrails, lease=LeaseInfo(acquired=True))
    )
    result = plan_cycle(document, llm=llm, claude=_workstation_claude(llm), deadline_seconds=args.timeout)
    if args.json:
        print_json(result.model_dump(mode="json"))
        return 0
    proposal = result.proposal if isinstance(result.proposal, dict) else {}
    print(f"planner:   {result.planner}" + (f" ({result.fallback_reason})" if result.fallback_reason else ""))
    print(
        f"proposal:  {proposal.get('action')} {proposal.get('instance_count')} x "
        f"{proposal.get('instance_type')} "
        f"({proposal.get('capacity_type')}), checkpoint={proposal.get('should_checkpoint')}"
    )
    print(f"reasoning: {proposal.get('reasoning')}")
    print(f"why:       {result.reason}")
    if result.llm is not None:
        usage = result.llm
        print(
            f"llm:       {usage.model}, {usage.latency_ms:.0f} ms, {usage.input_tokens} input "
            f"(+{usage.cache_read_input_tokens} cached, +{usage.cache_creation_input_tokens} written), "
            f"{usage.output_tokens} output tokens"
        )
    return 0


def _workstation_claude(llm: Any) -> Any:
    """A Claude planner factory for the CLI: key from ANTHROPIC_API_KEY, base URL from ANTHROPIC_BASE_URL."""

    def factory() -> Any:
        from costagent.adapters.claude import make_claude_client
        from costagent.config import get_settings
        from costagent.planner.claude import ClaudePlanner

        region = get_settings().region
        client = make_claude_client(llm, region=region)
        return ClaudePlanner.from_settings(client, llm)

    return factory


# --- demo -----------------------------------------------------------------------------------------


def command_demo(args: argparse.Namespace) -> int:
    from costagent.demo import DemoConfig, run_demo

    planner = args.planner
    if planner == "claude":
        from costagent.config import get_settings

        llm = get_settings().llm
        if not llm.configured:
            print(
                "costagent demo: Claude is not configured (set ANTHROPIC_API_KEY, and ANTHROPIC_BASE_URL "
                "for a local stand-in, or COSTAGENT_LLM_PROVIDER=bedrock); this demo runs with the rules "
                "planner.",
                file=sys.stderr,
            )
            planner = "rules"
        else:
            where = llm.base_url or ("Amazon Bedrock" if llm.provider == "bedrock" else "the Anthropic API")
            print(f"costagent demo: planning with Claude ({llm.model_id}) at {where}", file=sys.stderr)
    config = DemoConfig(
        hours=args.hours,
        cycle_minutes=args.cycle_minutes,
        planner=planner,
        llm_reuse=not args.no_reuse,
        mode=args.mode,
    )
    report = run_demo(config, progress=(not args.json and sys.stderr.isatty()) or args.progress)
    if args.export is not None:
        from costagent.review.trail import write_jsonl

        count = write_jsonl(report.records, args.export)
        print(f"costagent demo: {count} audit records written to {args.export}", file=sys.stderr)
    if args.json:
        print_json(report.as_dict())
    else:
        print(report.render())
    return 0


# --- fake-claude ----------------------------------------------------------------------------------


def command_fake_claude(args: argparse.Namespace) -> int:
    import time

    from costagent.local.fake_claude import FakeClaude

    with FakeClaude(default=args.behaviour, port=args.port) as fake:
        print(f"fake Messages API at {fake.base_url} (behaviour: {args.behaviour}); Ctrl-C stops it.")
        print(f"  export ANTHROPIC_BASE_URL={fake.base_url} ANTHROPIC_API_KEY=sk-local-fake")
        sys.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print(f"\nserved {fake.calls} request(s)")
    return 0


# --- entry point ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="costagent",
        description="Keep long-running pipelines on EC2 spot cheap and alive. `run`, `demo`, `clamp`, `plan` "
        "and `backtest` run offline (the real state machine and Lambda handlers on embedded AWS, moto in "
        "process: no account, no network). `worker` and `drill` act on the checkpoint bucket in your AWS "
        "account (docs/worker-contract.md); `export`, `signoff` and `promote` on the audit table and mode "
        "parameters (docs/observation.md); `report` and `replay` read either DynamoDB or an exported trail.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run one execution of the state machine for an event")
    run.add_argument("--event", required=True, help="EventBridge event JSON (see events/)")
    run.add_argument("--mode", choices=["observe", "execute"], default="observe", help="the pipeline's mode")
    run.add_argument(
        "--json", action="store_true", help="print status, states, state, decision, clamps, audit"
    )
    run.set_defaults(handler=command_run)

    clamp = commands.add_parser("clamp", help="bound a proposed decision by the guardrails")
    clamp.add_argument(
        "--state", required=True, help="pipeline state JSON (as `run --json` prints under state)"
    )
    clamp.add_argument("--decision", required=True, help="the proposal; any content, it is clamped")
    clamp.add_argument("--guardrails", help="guardrails JSON (default: the default world's)")
    clamp.set_defaults(handler=command_clamp)

    plan = commands.add_parser("plan", help="ask a planner for a proposal on a recorded state")
    plan.add_argument(
        "--state", required=True, help="pipeline state JSON (as `run --json` prints under state)"
    )
    plan.add_argument("--planner", choices=["claude", "rules"], default="claude", help="default claude")
    plan.add_argument("--guardrails", help="guardrails JSON (default: the default world's)")
    plan.add_argument("--timeout", type=float, default=60.0, help="seconds the Claude call may take in all")
    plan.add_argument("--json", action="store_true", help="print the whole plan result as JSON")
    plan.set_defaults(handler=command_plan)

    fake = commands.add_parser(
        "fake-claude", help="serve a local stand-in of the Claude Messages API (for demos and tests)"
    )
    fake.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    fake.add_argument(
        "--behaviour",
        default="ok",
        help="ok (follow the rules advice), overloaded, text_only, count_500, ...",
    )
    fake.set_defaults(handler=command_fake_claude)

    demo = commands.add_parser("demo", help="a six-hour spot pipeline, cycle by cycle, against no agent")
    demo.add_argument("--hours", type=float, default=6.0, help="simulated length of the pipeline (default 6)")
    demo.add_argument(
        "--cycle-minutes", type=int, default=5, help="simulated minutes between cycles (default 5)"
    )
    demo.add_argument(
        "--planner",
        choices=["rules", "claude"],
        default="rules",
        help="the pipeline's planner (default rules)",
    )
    demo.add_argument("--no-reuse", action="store_true", help="ask Claude every cycle (no decision reuse)")
    demo.add_argument(
        "--mode",
        choices=["execute", "observe"],
        default="execute",
        help="the pipeline's mode (default execute; observe records what would run and changes nothing)",
    )
    demo.add_argument(
        "--export",
        type=Path,
        metavar="FILE.jsonl",
        help="write the run's audit trail as `costagent export` does",
    )
    demo.add_argument("--json", action="store_true", help="print the report as JSON")
    demo.add_argument(
        "--progress", action="store_true", help="show the progress bar even when not a terminal"
    )
    demo.set_defaults(handler=command_demo)

    from costagent.worker_cli import add_worker_commands  # here: it imports this module's UnreadableInput

    add_worker_commands(commands)

    from costagent.backtest.cli import add_backtest_command

    add_backtest_command(commands)

    from costagent.review.cli import add_review_commands

    add_review_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except UnreadableInput as error:
        print(f"costagent {args.command}: {error}", file=sys.stderr)
        return EXIT_UNREADABLE_INPUT
    except BrokenPipeError:
        # The reader (head, less) stopped reading: not a failure. Point stdout at devnull so the
        # interpreter's final flush does not fail again.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
