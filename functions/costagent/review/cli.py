"""`costagent export | report | replay | signoff | promote`: observe, review, promote, roll back.

`report` and `replay` read the audit trail from DynamoDB (`--pipeline`) or from a file that `export`
wrote (`--trail`), so a review needs no AWS access. `signoff` and `promote` always work on the live
trail and Parameter Store: the gate is never evaluated on a file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from costagent.cli import print_json
from costagent.models import CycleRecord

EXIT_OK = 0
EXIT_UNUSABLE = 2  # unreadable input, missing configuration, AWS refused
EXIT_REFUSED = 3  # the observation gate refused the promotion


class ReviewError(Exception):
    """A problem the operator can fix; printed as one sentence, exit code 2."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _settings() -> Any:
    from costagent.config import get_settings

    return get_settings()


def _operator() -> Any:
    from costagent.review.operator import Operator

    return Operator(_settings())


def _since(args: argparse.Namespace) -> datetime | None:
    from costagent.review.trail import parse_since

    return parse_since(args.since, _now()) if getattr(args, "since", None) else None


def _records(args: argparse.Namespace) -> tuple[list[CycleRecord], str]:
    """The selected records and the pipeline they belong to."""
    from costagent.review.trail import pipelines, read_jsonl, select

    since = _since(args)
    if args.trail is not None:
        records = read_jsonl(args.trail)
        if not records:
            raise ReviewError(
                f"{args.trail} holds no audit records: export the trail with `costagent export`"
            )
        found = [p for p in pipelines(records) if not p.startswith("_")]
        pipeline = args.pipeline or (found[0] if len(found) == 1 else None)
        if pipeline is None:
            raise ReviewError(
                f"{args.trail} holds pipelines {', '.join(found) or 'none'}: name one with --pipeline"
            )
        return select(records, pipeline, since), pipeline
    if not args.pipeline:
        raise ReviewError(
            "name the pipeline (--pipeline ID) to read its trail from DynamoDB, or give --trail FILE"
        )
    return select(_operator().trail(args.pipeline, since), args.pipeline, since), args.pipeline


def command_export(args: argparse.Namespace) -> int:
    from costagent.review.trail import write_jsonl

    since = _since(args)
    records = _operator().trail(args.pipeline, since)
    if args.output is None:
        for record in records:
            sys.stdout.write(record.model_dump_json() + "\n")
    else:
        write_jsonl(records, args.output)
        print(f"{len(records)} audit records of {args.pipeline} written to {args.output}", file=sys.stderr)
    return EXIT_OK


def command_report(args: argparse.Namespace) -> int:
    from costagent.review.report import build_report, render_text

    records, pipeline = _records(args)
    report = build_report(records, pipeline, _since(args))
    if args.html is not None:
        from costagent.review.html import render_html

        args.html.write_text(render_html(report), encoding="utf-8")
        print(f"HTML report written to {args.html}", file=sys.stderr)
    if args.json:
        print_json(report.as_dict())
    else:
        print(render_text(report))
    return EXIT_OK


def _replay_planner(args: argparse.Namespace) -> tuple[Any, str]:
    from costagent.prompt import PROMPT_VERSION

    if args.prompt_version is not None and args.prompt_version != PROMPT_VERSION:
        raise ReviewError(
            f"prompt version {args.prompt_version} is not the installed one ({PROMPT_VERSION}): replay runs "
            "the prompt of the installed costagent, so check out that version and replay from there"
        )
    planner = "claude" if args.model else args.planner
    if planner == "rules":
        from costagent.planner.rules import RulesPlanner

        return RulesPlanner(), "rules"
    llm = _settings().llm.model_copy(update={"reuse": False, **({"model": args.model} if args.model else {})})
    if not llm.configured:
        raise ReviewError(
            "Claude is not configured: set ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL for a local stand-in) "
            "or COSTAGENT_LLM_PROVIDER=bedrock, or replay with --planner rules"
        )
    from costagent.adapters.claude import make_claude_client
    from costagent.planner.claude import ClaudePlanner

    claude = ClaudePlanner.from_settings(make_claude_client(llm, region=_settings().region), llm)

    class _Timed:
        def plan(self, state: Any, guardrails: Any) -> Any:
            return claude.plan(state, guardrails, deadline_seconds=args.timeout)

    return _Timed(), f"claude ({llm.model_id}, prompt {PROMPT_VERSION})"


def command_replay(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from costagent.guardrails import Guardrails
    from costagent.review.replay import render_replay, replay_records

    records, _ = _records(args)
    guardrails = None
    if args.guardrails is not None:
        try:
            guardrails = Guardrails.model_validate_json(args.guardrails.read_text(encoding="utf-8"))
        except OSError as error:
            raise ReviewError(f"cannot read guardrails file {args.guardrails}: {error.strerror}") from error
        except ValidationError as error:
            first = error.errors()[0]
            raise ReviewError(
                f"guardrails file {args.guardrails} is not valid ({'.'.join(map(str, first['loc']))}: "
                f"{first['msg']})"
            ) from error
    planner, name = _replay_planner(args)
    report = replay_records(
        records, planner, name, guardrails, str(args.guardrails) if args.guardrails else "recorded"
    )
    if args.json:
        print_json(report.as_dict())
    else:
        print(render_replay(report))
    return EXIT_OK


def command_signoff(args: argparse.Namespace) -> int:
    record = _operator().sign_off(args.pipeline, args.by, args.note, _now())
    print(
        f"review of {args.pipeline} signed off by {args.by} at {record.cycle_time.isoformat()} "
        f"(audit record {record.cycle_id})"
    )
    return EXIT_OK


def command_promote(args: argparse.Namespace) -> int:
    from costagent.models import Mode
    from costagent.review.gate import GatePolicy

    policy = GatePolicy(
        **{
            name: value
            for name, value in (
                ("min_observation_days", args.min_observation_days),
                ("min_cycles", args.min_cycles),
                ("max_fallback_rate", args.max_fallback_rate),
                ("max_clamp_rate", args.max_clamp_rate),
            )
            if value is not None
        }
    )
    change = _operator().change_mode(args.pipeline, Mode(args.to), args.by, args.note or "", _now(), policy)
    if args.json:
        print_json({"record": change.record.model_dump(mode="json"), "granted": change.granted})
        return EXIT_OK if change.granted else EXIT_REFUSED
    if change.verdict is not None:
        print(change.verdict.render())
    operator = change.record.operator
    assert operator is not None
    if change.granted:
        print(
            f"{args.pipeline}: mode {operator.from_mode.value if operator.from_mode else '?'} -> "
            f"{args.to}; the next cycle reads it (audit record {change.record.cycle_id})"
        )
        engaged = _operator().kill_switch() if args.to == "execute" else None
        if engaged is not None:
            print(
                f"note: the kill switch {_settings().kill_switch_parameter} is {engaged!r}: every pipeline "
                "stays in observe mode until it is set to off"
            )
        return EXIT_OK
    stays = operator.from_mode.value if operator.from_mode else "?"
    print(f"{args.pipeline}: promotion refused, mode stays {stays} (audit record {change.record.cycle_id})")
    return EXIT_REFUSED


def command_local_aws(args: argparse.Namespace) -> int:
    import signal
    import threading

    from costagent.local.aws_server import local_aws

    stop = threading.Event()
    for name in ("SIGINT", "SIGTERM"):
        signal.signal(getattr(signal, name), lambda *_: stop.set())
    with local_aws(_settings(), args.trail, args.port) as aws:
        print(
            f"moto on {aws.url}: costagent's tables, {aws.records} audit records, pipelines "
            f"{', '.join(aws.pipelines) or 'none'} in observe mode. In another shell:",
            flush=True,
        )
        print(aws.exports(), flush=True)
        stop.wait()
    return EXIT_OK


def _since_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", help="only cycles since: 14d, 36h, 90m, or a date/time (ISO 8601, UTC)")


def _trail_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pipeline", help="the pipeline id (needed unless the trail holds only one)")
    parser.add_argument(
        "--trail", type=Path, metavar="FILE.jsonl", help="an exported trail instead of DynamoDB"
    )
    _since_argument(parser)


def add_review_commands(commands: Any) -> None:
    export = commands.add_parser(
        "export", help="write a pipeline's audit trail from DynamoDB to JSONL (one record per line)"
    )
    export.add_argument("--pipeline", required=True, help="the pipeline id")
    _since_argument(export)
    export.add_argument("--output", type=Path, metavar="FILE.jsonl", help="default: standard output")
    export.set_defaults(handler=_guarded(command_export))

    report = commands.add_parser(
        "report", help="decisions, clamps, fallbacks, latency, tokens and interruptions of an audit trail"
    )
    _trail_arguments(report)
    report.add_argument("--html", type=Path, metavar="FILE.html", help="also write an HTML page with charts")
    report.add_argument("--json", action="store_true", help="print the figures as JSON")
    report.set_defaults(handler=_guarded(command_report))

    replay = commands.add_parser(
        "replay", help="plan recorded cycles again (another planner, model or guardrails) and compare"
    )
    _trail_arguments(replay)
    replay.add_argument("--planner", choices=["rules", "claude"], default="rules", help="default rules")
    replay.add_argument("--model", help="a Claude model id (implies --planner claude)")
    replay.add_argument(
        "--prompt-version", help="the prompt version to replay with; only the installed one can run"
    )
    replay.add_argument(
        "--guardrails", type=Path, metavar="FILE.json", help="replace the recorded guardrails"
    )
    replay.add_argument("--timeout", type=float, default=60.0, help="seconds each Claude call may take")
    replay.add_argument("--json", action="store_true", help="print the comparison as JSON")
    replay.set_defaults(handler=_guarded(command_replay))

    signoff = commands.add_parser(
        "signoff", help="record that a person reviewed the pipeline's observation period"
    )
    signoff.add_argument("--pipeline", required=True, help="the pipeline id")
    signoff.add_argument("--by", required=True, help="who reviewed (recorded with your AWS identity)")
    signoff.add_argument("--note", required=True, help="what was reviewed and concluded")
    signoff.set_defaults(handler=_guarded(command_signoff))

    promote = commands.add_parser(
        "promote",
        help="switch a pipeline to execute (only through the observation gate) or back to observe (at once)",
    )
    promote.add_argument("--pipeline", required=True, help="the pipeline id")
    promote.add_argument("--to", required=True, choices=["execute", "observe"], help="the new mode")
    promote.add_argument("--by", required=True, help="who switches (recorded with your AWS identity)")
    promote.add_argument("--note", help="why")
    promote.add_argument("--min-observation-days", type=float, help="gate: default 14; lowering is recorded")
    promote.add_argument("--min-cycles", type=int, help="gate: default 500; lowering is recorded")
    promote.add_argument("--max-fallback-rate", type=float, help="gate: default 0.05; raising is recorded")
    promote.add_argument("--max-clamp-rate", type=float, help="gate: default 0.10; raising is recorded")
    promote.add_argument("--json", action="store_true", help="print the audit record as JSON")
    promote.set_defaults(handler=_guarded(command_promote))

    local = commands.add_parser(
        "local-aws",
        help="serve AWS on 127.0.0.1 (moto) with costagent's tables and a trail: try these commands offline",
    )
    local.add_argument("--trail", type=Path, metavar="FILE.jsonl", help="audit records to load")
    local.add_argument("--port", type=int, default=5000, help="port on 127.0.0.1 (default 5000; 0: any free)")
    local.set_defaults(handler=_guarded(command_local_aws))


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Errors an operator can fix become one sentence on stderr and exit code 2."""

    def run(args: argparse.Namespace) -> int:
        from pydantic import ValidationError

        from costagent.errors import CostagentError
        from costagent.review.trail import TrailError

        try:
            return command(args)
        except (ReviewError, TrailError, CostagentError) as error:
            print(f"costagent {args.command}: {error}", file=sys.stderr)
        except ValidationError as error:
            first = error.errors()[0]
            print(
                f"costagent {args.command}: {'.'.join(map(str, first['loc']))}: {first['msg']}",
                file=sys.stderr,
            )
        return EXIT_UNUSABLE

    return run
