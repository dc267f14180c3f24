"""The demo: a six-hour pipeline on spot workers, driven cycle by cycle through the real state machine on
embedded AWS, against the same scenario without the agent.

The world (simulated minutes, fast wall clock):
- Workers are the instances of the pipeline's Auto Scaling group on moto. Each productive worker does one
  worker-minute of the job per minute; a new worker needs `BOOT_MINUTES` before it is productive.
- Workers read checkpoint requests the way real ones would: SSM Run Command invocations addressed to them.
  A checkpoint saves every worker's work so far and costs each worker `CHECKPOINT_COST_MINUTES` of work.
  It goes through the worker contract (`costagent.worker`, docs/worker-contract.md): one object per shard
  of the job (the shard's saved offset), a manifest with their checksums naming the SSM command that asked
  for it, then the `latest.json` pointer. Progress is reported through the same API.
- Each worker works on one shard. A worker that takes over the shard of one that is gone (reclaimed by spot,
  or replaced by the agent) restores the latest checkpoint through `WorkerClient.restore`, which verifies
  every checksum, and resumes the shard from its saved offset.
- A spot interruption sends the two-minute warning (an EventBridge-shaped event into the state machine),
  then reclaims the instance: its work since the last checkpoint is lost, and the pool has no capacity
  left, so the group's desired capacity drops. Nothing scales it back up unless someone decides to.
- A price spike raises the spot price of one instance type in every zone for a while.
The baseline runs the same world with no agent: no checkpoints, no replacement, no migration.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from costagent.models import CycleRecord
from costagent.worker_contract import DrillRecord

BOOT_MINUTES = 3  # launch, boot and restore before a new worker does useful work
CHECKPOINT_COST_MINUTES = 1.0  # each worker pauses this long to write its part of a checkpoint
DEMO_START = datetime(2026, 12, 3, 0, 0, tzinfo=timezone.utc)
MAX_RUN_FACTOR = 2.0  # the simulation gives up at twice the planned length


@dataclass(frozen=True)
class Interruption:
    minute: int
    worker_index: int  # which of the running workers (oldest first) is reclaimed


@dataclass(frozen=True)
class PriceSpike:
    start_minute: int
    end_minute: int
    instance_type: str
    price_per_hour: float


@dataclass
class DemoConfig:
    hours: float = 6.0
    cycle_minutes: int = 5
    workers: int = 4
    interruptions: tuple[Interruption, ...] = (Interruption(95, 1), Interruption(230, 0))
    price_spike: PriceSpike | None = PriceSpike(150, 210, "c5.xlarge", 0.2100)
    planner_outage_minute: int | None = 300  # one cycle whose planner fails, to show the fallback
    planner: str = "rules"  # or "claude": the pipeline's guardrails name it
    llm_reuse: bool = True  # reuse Claude's last WAIT while nothing material changes
    mode: str = "execute"  # or "observe": the agent records what it would do and changes nothing

    @property
    def job_worker_minutes(self) -> float:
        return self.workers * self.hours * 60.0


@dataclass
class Worker:
    instance_id: str
    instance_type: str
    zone: str
    lifecycle: str
    started_minute: int
    unsaved: float = 0.0  # worker-minutes done since the last checkpoint
    shard: str = ""  # the slice of the job this worker works on (the agent run only)


@dataclass
class Shard:
    """One slice of the job. Its saved offset is what every checkpoint stores for it, as one object."""

    name: str
    saved_minutes: float = 0.0  # worker-minutes of this shard's work in the latest checkpoint
    holder: str | None = None  # the worker on it now; None while it waits for a replacement
    saved_by: str | None = None  # the worker whose work the checkpoint holds
    orphaned_because: str | None = None  # "interrupted" or "terminated by the agent"

    @property
    def object_name(self) -> str:
        return f"shards/{self.name}.json"

    def document(self) -> bytes:
        saved = {
            "shard": self.name,
            "instance_id": self.saved_by,
            "work_minutes": round(self.saved_minutes, 3),
        }
        return json.dumps(saved, sort_keys=True).encode()


@dataclass(frozen=True)
class Restore:
    """A new worker took over a shard and restored the latest checkpoint to resume it."""

    minute: int
    instance_id: str
    shard: str
    replaced: str | None  # the worker whose shard it took over
    because: str | None  # why that worker is gone
    checkpoint_id: str | None  # None when there was no checkpoint yet
    request: str | None  # the SSM command that asked for that checkpoint
    restored_minutes: float | None  # the shard's offset read back from the checkpoint
    expected_minutes: float  # the offset the simulation saved for it


@dataclass
class Ledger:
    """What happened to the job and the bill, for one run."""

    saved: float = 0.0
    lost_minutes: float = 0.0
    checkpoint_minutes: float = 0.0
    checkpoints: int = 0
    interruptions: int = 0
    cost_usd: float = 0.0
    finished_minute: int | None = None

    def done(self, workers: list[Worker]) -> float:
        return self.saved + sum(w.unsaved for w in workers)


def _price(world_market: Any, worker: Worker, minute: int, on_demand: dict[str, float]) -> float:
    if worker.lifecycle != "spot":
        return on_demand.get(worker.instance_type, 0.0)
    price = world_market.price_at(worker.instance_type, worker.zone, DEMO_START + timedelta(minutes=minute))
    return price if price is not None else on_demand.get(worker.instance_type, 0.0)


def _work_one_minute(ledger: Ledger, workers: list[Worker], minute: int) -> None:
    for worker in workers:
        if minute - worker.started_minute >= BOOT_MINUTES:
            worker.unsaved += 1.0


def _checkpoint(ledger: Ledger, workers: list[Worker]) -> None:
    ledger.checkpoints += 1
    for worker in workers:
        ledger.saved += worker.unsaved
        worker.unsaved = 0.0
        # The pause to write the checkpoint is work not done: counted as overhead, taken from the job.
        ledger.saved -= CHECKPOINT_COST_MINUTES
        ledger.checkpoint_minutes += CHECKPOINT_COST_MINUTES


# --- the baseline: the same world, nobody acting -----------------------------------------------------


def simulate_without_agent(
    config: DemoConfig, market: Any, on_demand: dict[str, float], first: list[Worker]
) -> Ledger:
    ledger = Ledger()
    workers = [Worker(**{**w.__dict__, "unsaved": 0.0}) for w in first]
    pending = {i.minute + 2: i for i in config.interruptions}
    limit = int(config.hours * 60 * MAX_RUN_FACTOR)
    for minute in range(limit):
        if minute in pending and workers:
            interruption = pending[minute]
            ordered = sorted(workers, key=lambda w: (w.started_minute, w.instance_id))
            victim = ordered[min(interruption.worker_index, len(ordered) - 1)]
            ledger.lost_minutes += victim.unsaved
            ledger.interruptions += 1
            workers.remove(victim)
        ledger.cost_usd += sum(_price(market, w, minute, on_demand) for w in workers) / 60.0
        _work_one_minute(ledger, workers, minute)
        if ledger.done(workers) >= config.job_worker_minutes:
            ledger.finished_minute = minute + 1
            break
    return ledger


# --- the agent run: the real state machine on embedded AWS --------------------------------------------


@dataclass
class DemoReport:
    config: DemoConfig
    agent: Ledger
    baseline: Ledger
    records: list[CycleRecord]
    executions: int
    wall_seconds: float
    cycle_wall_seconds: list[float] = field(default_factory=list)
    restores: list[Restore] = field(default_factory=list)
    drill: DrillRecord | None = None

    def decisions_by_action(self) -> dict[str, int]:
        return dict(Counter(r.decision.action.value for r in self.records if r.decision))

    def clamps_by_rule(self) -> dict[str, int]:
        return dict(Counter(c.rule for r in self.records for c in r.clamps))

    def planners(self) -> dict[str, int]:
        return dict(Counter(r.planner or "none" for r in self.records))

    def outcomes(self) -> dict[str, int]:
        return dict(Counter(r.outcome.value for r in self.records))

    def llm_figures(self) -> dict[str, Any]:
        """Calls to Claude, reuse, and tokens per call (input counts cached and uncached prompt tokens)."""
        planned = [r for r in self.records if r.planner in ("claude", "cached", "fallback", "rules")]
        calls = [r.llm for r in self.records if r.llm is not None]
        prompt_tokens = sorted(
            c.input_tokens + c.cache_read_input_tokens + c.cache_creation_input_tokens for c in calls
        )
        minutes = self.agent.finished_minute or int(self.config.hours * 60)
        return {
            "planned_cycles": len(planned),
            "llm_calls": len(calls),
            "reused": sum(1 for r in self.records if r.planner == "cached"),
            "share_of_cycles_calling_llm": round(len(calls) / len(planned), 3) if planned else 0.0,
            "llm_calls_per_pipeline_hour": round(len(calls) / (minutes / 60.0), 2),
            "input_tokens_per_call_median": _percentile(prompt_tokens, 0.5),
            "input_tokens_per_call_p95": _percentile(prompt_tokens, 0.95),
            "output_tokens_total": sum(c.output_tokens for c in calls),
            "cache_read_tokens_total": sum(c.cache_read_input_tokens for c in calls),
            "cache_write_tokens_total": sum(c.cache_creation_input_tokens for c in calls),
            "fallbacks_by_reason": dict(
                Counter(r.fallback_reason for r in self.records if r.fallback_reason)
            ),
        }

    def restore_figures(self) -> dict[str, int]:
        """How new workers resumed: from which checkpoint, asked for by whom, and whether the shard's
        offset came back exactly. After an interruption, the checkpoint restored should be the one that
        interruption's warning requested (the SSM command in that cycle's audit record)."""
        requested = {command for record in self.records for command in _checkpoint_commands(record)}
        warned: dict[str, set[str]] = {}
        for record in self.records:
            if record.trigger.value == "interruption" and record.instance_id:
                warned.setdefault(record.instance_id, set()).update(_checkpoint_commands(record))
        after = [r for r in self.restores if r.because == "interrupted"]
        return {
            "total": len(self.restores),
            "from_agent_requested_checkpoint": sum(1 for r in self.restores if r.request in requested),
            "work_restored_exactly": sum(
                1 for r in self.restores if r.restored_minutes == r.expected_minutes
            ),
            "after_interruption": len(after),
            "after_interruption_from_the_warnings_checkpoint": sum(
                1 for r in after if r.replaced is not None and r.request in warned.get(r.replaced, set())
            ),
        }

    def interruptions_survived(self) -> int:
        checkpointed = [
            r
            for r in self.records
            if r.trigger.value == "interruption"
            and r.checkpoint is not None
            and any(a.status == "done" for a in r.checkpoint.actions)
        ]
        return len(checkpointed)

    def as_dict(self) -> dict[str, Any]:
        def ledger(entry: Ledger) -> dict[str, Any]:
            return {
                "finished_after_minutes": entry.finished_minute,
                "lost_compute_minutes": round(entry.lost_minutes, 1),
                "checkpoint_overhead_minutes": round(entry.checkpoint_minutes, 1),
                "cost_usd": round(entry.cost_usd, 2),
                "checkpoints": entry.checkpoints,
                "interruptions": entry.interruptions,
            }

        cycle_times = sorted(self.cycle_wall_seconds)
        return {
            "scenario": {
                "hours": self.config.hours,
                "workers": self.config.workers,
                "cycle_minutes": self.config.cycle_minutes,
                "mode": self.config.mode,
                "interruptions_at_minutes": [i.minute for i in self.config.interruptions],
                "price_spike": self.config.price_spike.__dict__ if self.config.price_spike else None,
            },
            "with_agent": {
                **ledger(self.agent),
                "interruptions_survived": self.interruptions_survived(),
                "decisions_by_action": self.decisions_by_action(),
                "clamps_by_rule": self.clamps_by_rule(),
                "planners": self.planners(),
                "outcomes": self.outcomes(),
                "restores": self.restore_figures(),
                "drill": self.drill.model_dump(mode="json") if self.drill else None,
            },
            "llm": self.llm_figures() if self.config.planner == "claude" else None,
            "without_agent": ledger(self.baseline),
            "executions": self.executions,
            "wall_seconds": round(self.wall_seconds, 1),
            "median_cycle_wall_seconds": cycle_times[len(cycle_times) // 2] if cycle_times else None,
        }

    def render(self) -> str:
        data = self.as_dict()
        agent, base = data["with_agent"], data["without_agent"]

        def finished(entry: dict[str, Any]) -> str:
            minutes = entry["finished_after_minutes"]
            return f"{minutes / 60:.2f} h" if minutes else "not finished"

        rows = [
            ("finished after", finished(agent), finished(base)),
            (
                "lost compute minutes",
                f"{agent['lost_compute_minutes']:.0f}",
                f"{base['lost_compute_minutes']:.0f}",
            ),
            (
                "checkpoint overhead (min)",
                f"{agent['checkpoint_overhead_minutes']:.0f}",
                f"{base['checkpoint_overhead_minutes']:.0f}",
            ),
            ("cost (USD)", f"{agent['cost_usd']:.2f}", f"{base['cost_usd']:.2f}"),
            ("checkpoints taken", str(agent["checkpoints"]), str(base["checkpoints"])),
            ("interruptions", str(agent["interruptions"]), str(base["interruptions"])),
            ("interruptions checkpointed in time", str(agent["interruptions_survived"]), "0"),
        ]
        width = max(len(r[0]) for r in rows)
        lines = [
            f"costagent demo: a {self.config.hours:g}-hour pipeline on {self.config.workers} spot workers, "
            f"a cycle every {self.config.cycle_minutes} simulated minutes ({self.config.mode} mode, "
            f"embedded AWS, {self.config.planner} planner)",
            "",
            f"{'':<{width}}  {'with costagent':>16}  {'without':>12}",
        ]
        lines += [f"{name:<{width}}  {a:>16}  {b:>12}" for name, a, b in rows]
        lines += [
            "",
            "decisions by action: " + _counts(agent["decisions_by_action"]),
            "clamps by rule:      " + (_counts(agent["clamps_by_rule"]) or "none"),
            "planner used:        " + _counts(agent["planners"]),
            "cycle outcomes:      " + _counts(agent["outcomes"]),
        ]
        restores = agent["restores"]
        if self.config.mode == "observe":
            lines.append(
                "observe mode:        nothing was changed, so the run is the one without costagent; "
                "`costagent report` on the exported trail shows what would have run"
            )
        else:
            lines += [
                f"restores:            {restores['total']} by new workers, "
                f"{restores['from_agent_requested_checkpoint']} from a checkpoint the agent requested, "
                f"{restores['work_restored_exactly']} resumed exactly (checksums verified)",
                f"                     {restores['after_interruption']} replaced interrupted workers, "
                f"{restores['after_interruption_from_the_warnings_checkpoint']} from the checkpoint their "
                "interruption warning requested",
            ]
        if self.drill is not None:
            outcome = "ok" if self.drill.ok else f"FAILED ({self.drill.problem or len(self.drill.failures)})"
            lines.append(
                f"restore drill:       checkpoint {self.drill.checkpoint_id}, {self.drill.objects_checked} "
                f"objects restored to a scratch prefix and verified: {outcome}"
            )
        if data["llm"]:
            llm = data["llm"]
            lines += [
                f"Claude:              {llm['llm_calls']} calls for {llm['planned_cycles']} planned cycles "
                f"({llm['share_of_cycles_calling_llm']:.0%}; {llm['reused']} reused), "
                f"{llm['llm_calls_per_pipeline_hour']} calls per pipeline-hour",
                f"                     input tokens per call: median {llm['input_tokens_per_call_median']}, "
                f"p95 {llm['input_tokens_per_call_p95']}; cache read {llm['cache_read_tokens_total']}, "
                f"written {llm['cache_write_tokens_total']}",
                "                     fallbacks: " + (_counts(llm["fallbacks_by_reason"]) or "none"),
            ]
        lines += [
            f"{data['executions']} state machine executions in {data['wall_seconds']} s "
            f"(median {data['median_cycle_wall_seconds']} s per execution)",
        ]
        return "\n".join(lines)


def _checkpoint_commands(record: CycleRecord) -> list[str]:
    """The SSM commands a cycle sent to ask for a checkpoint (its action detail is `command <id>`)."""
    actions = list(record.actions) + (list(record.checkpoint.actions) if record.checkpoint else [])
    return [
        a.detail.split(" ", 1)[1]
        for a in actions
        if a.kind == "checkpoint" and a.status == "done" and a.detail.startswith("command ")
    ]


def _percentile(ordered: list[int], fraction: float) -> int | None:
    if not ordered:
        return None
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)]


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(
        f"{name} {count}" for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )


class _AgentRun:
    """Drives the world minute by minute and the state machine every cycle."""

    def __init__(self, config: DemoConfig, aws: Any, world: Any, on_demand: dict[str, float]) -> None:
        self.config, self.aws, self.world, self.on_demand = config, aws, world, on_demand
        self.client = world.worker_client(worker="demo-fleet")  # the workers' side of the worker contract
        self.ledger = Ledger()
        self.workers: dict[str, Worker] = {}
        self.shards: dict[str, Shard] = {}
        self.restores: list[Restore] = []
        self.seen_commands: set[str] = set()
        self.warned: dict[int, str] = {}
        self.cycle_wall_seconds: list[float] = []
        self.executions = 0
        self.executed_since_sync = False

    def now(self, minute: int) -> datetime:
        return DEMO_START + timedelta(minutes=minute)

    def sync_workers(self, minute: int) -> None:
        """Workers are whatever the group runs now: new instances join, terminated ones leave."""
        reservations = self.aws.client("ec2").describe_instances(
            Filters=[
                {"Name": "tag:costagent:pipeline", "Values": [self.world.pipeline_id]},
                {"Name": "instance-state-name", "Values": ["pending", "running"]},
            ]
        )["Reservations"]
        live = {i["InstanceId"]: i for r in reservations for i in r["Instances"]}
        for instance_id in list(self.workers):
            if instance_id not in live:
                # Terminated by the agent (scale-down or migration): work since the last checkpoint is lost.
                gone = self.workers.pop(instance_id)
                self.ledger.lost_minutes += gone.unsaved
                self.leave_shard(gone, "terminated by the agent")
        for instance_id, raw in live.items():
            if instance_id not in self.workers:
                worker = Worker(
                    instance_id=instance_id,
                    instance_type=raw["InstanceType"],
                    zone=raw["Placement"]["AvailabilityZone"],
                    lifecycle=raw.get("InstanceLifecycle", "on-demand"),
                    started_minute=minute if minute > 0 else -BOOT_MINUTES,
                )
                self.workers[instance_id] = worker
                self.join_shard(worker, minute)

    def leave_shard(self, worker: Worker, because: str) -> None:
        shard = self.shards[worker.shard]
        shard.holder, shard.orphaned_because = None, because

    def join_shard(self, worker: Worker, minute: int) -> None:
        """A new worker takes the oldest shard left without a worker and restores it from the latest
        checkpoint (within its boot minutes); with no shard waiting, it starts a new one."""
        waiting = sorted(name for name, shard in self.shards.items() if shard.holder is None)
        if not waiting:
            name = f"shard-{len(self.shards) + 1}"
            self.shards[name] = Shard(name=name, holder=worker.instance_id)
            worker.shard = name
            return
        shard = self.shards[waiting[0]]
        replaced, because = shard.saved_by, shard.orphaned_because
        shard.holder, shard.orphaned_because, worker.shard = worker.instance_id, None, shard.name
        self.restores.append(self.restore_shard(worker, shard, minute, replaced, because))

    def restore_shard(
        self, worker: Worker, shard: Shard, minute: int, replaced: str | None, because: str | None
    ) -> Restore:
        from costagent.worker import CheckpointNotFound

        try:
            restored = self.client.restore()  # every object's checksum verified, or CheckpointCorrupted
        except CheckpointNotFound:
            restored = None
        saved = None
        if restored is not None and shard.object_name in restored.contents:
            saved = float(json.loads(restored.contents[shard.object_name])["work_minutes"])
        return Restore(
            minute=minute,
            instance_id=worker.instance_id,
            shard=shard.name,
            replaced=replaced,
            because=because,
            checkpoint_id=restored.checkpoint_id if restored else None,
            request=restored.request if restored else None,
            restored_minutes=saved,
            expected_minutes=round(shard.saved_minutes, 3),
        )

    def handle_checkpoint_commands(self, minute: int) -> None:
        commands = self.aws.client("ssm").list_commands()["Commands"]
        fresh = [c for c in commands if c["CommandId"] not in self.seen_commands]
        for command in fresh:
            self.seen_commands.add(command["CommandId"])
        if fresh and self.workers:
            for worker in self.workers.values():
                shard = self.shards[worker.shard]
                shard.saved_minutes += worker.unsaved
                shard.saved_by = worker.instance_id
            _checkpoint(self.ledger, list(self.workers.values()))
            newest = max(fresh, key=lambda c: (c["RequestedDateTime"], c["CommandId"]))
            self.client.checkpoint_done(
                f"ckpt-{minute:04d}",
                {shard.object_name: shard.document() for shard in self.shards.values()},
                self.progress(),
                request=newest["CommandId"],  # the checkpoint answers the request that asked for it
                now=self.now(minute),
            )

    def progress(self) -> float:
        return min(self.ledger.done(list(self.workers.values())) / self.config.job_worker_minutes, 1.0)

    def run_cycle(self, event: dict[str, Any]) -> None:
        report = self.aws.run(event)
        self.executions += 1
        self.executed_since_sync = True
        self.cycle_wall_seconds.append(report.wall_seconds)

    def interrupt(self, minute: int) -> bool:
        """Send due warnings and reclaim warned instances; True when the fleet changed."""
        from costagent.local.world import spot_event

        changed = False
        for interruption in self.config.interruptions:
            ordered = sorted(self.workers.values(), key=lambda w: (w.started_minute, w.instance_id))
            if interruption.minute == minute and ordered:
                victim = ordered[min(interruption.worker_index, len(ordered) - 1)]
                self.warned[minute + 2] = victim.instance_id
                self.run_cycle(
                    spot_event("EC2 Spot Instance Interruption Warning", victim.instance_id, self.now(minute))
                )
        if minute in self.warned:
            instance_id = self.warned.pop(minute)
            worker = self.workers.pop(instance_id, None)
            if worker is not None:
                self.ledger.lost_minutes += worker.unsaved
                self.ledger.interruptions += 1
                self.leave_shard(worker, "interrupted")
                self.aws.client("autoscaling").terminate_instance_in_auto_scaling_group(
                    InstanceId=instance_id, ShouldDecrementDesiredCapacity=True
                )
                changed = True
        return changed


def run_demo(config: DemoConfig, progress: bool = False) -> DemoReport:
    import time

    from costagent.local.runner import EmbeddedAws
    from costagent.local.world import build_world, default_guardrails, scheduled_event

    started = time.perf_counter()
    reuse = {"COSTAGENT_LLM_REUSE": "true" if config.llm_reuse else "false"}
    with EmbeddedAws(extra_environment=reuse) as aws:
        world = build_world(
            aws,
            DEMO_START,
            guardrails=default_guardrails(planner=config.planner),
            workers=config.workers,
            mode=config.mode,
            progress=0.0,
            minutes_since_checkpoint=None,
            spent_usd=0.0,
            budget_usd=60.0,
        )
        if config.price_spike is not None:
            spike = config.price_spike
            for zone in world.zones:
                normal = aws.market.price_at(spike.instance_type, zone, DEMO_START)
                aws.market.set_price(
                    spike.instance_type,
                    zone,
                    DEMO_START + timedelta(minutes=spike.start_minute),
                    spike.price_per_hour,
                )
                if normal is not None:
                    aws.market.set_price(
                        spike.instance_type, zone, DEMO_START + timedelta(minutes=spike.end_minute), normal
                    )
        from costagent.prices import on_demand_price

        on_demand = {t: on_demand_price(t) for t in world.guardrails.allowed_instance_types}
        run = _AgentRun(config, aws, world, on_demand)
        run.sync_workers(0)
        first_workers = [Worker(**w.__dict__) for w in run.workers.values()]
        limit = int(config.hours * 60 * MAX_RUN_FACTOR)
        for minute in range(limit):
            if run.interrupt(minute):
                run.sync_workers(minute)
            run.ledger.cost_usd += (
                sum(_price(aws.market, w, minute, on_demand) for w in run.workers.values()) / 60.0
            )
            _work_one_minute(run.ledger, list(run.workers.values()), minute)
            if run.progress() >= 1.0:
                run.ledger.finished_minute = minute + 1
                break
            if minute % config.cycle_minutes == 0:
                # Workers report progress every minute; only the latest report matters to the next cycle.
                run.client.report_progress(run.progress(), started_at=DEMO_START, now=run.now(minute))
                world.set_budget_spend(run.ledger.cost_usd)
                if config.planner_outage_minute is not None and minute == config.planner_outage_minute:
                    aws.fail_next(
                        "costagent-plan", "PlanningFailed", "demo: the planner is down for one cycle"
                    )
                run.run_cycle(scheduled_event(world.pipeline_id, run.now(minute)))
            if run.executed_since_sync:
                run.handle_checkpoint_commands(minute)
                run.sync_workers(minute)
                run.executed_since_sync = False
            if progress:
                _draw_progress(minute, run.progress(), config)
        if progress:
            sys.stderr.write("\n")
        records = _final_records(aws, world.pipeline_id)
        # What an operator's scheduled `costagent drill` does: restore the latest checkpoint into a scratch
        # prefix and verify every object against its manifest.
        # Observing, nobody checkpointed: there is nothing to drill.
        drill = (
            None
            if config.mode == "observe"
            else run.client.drill(now=run.now(run.ledger.finished_minute or limit))
        )
        baseline = simulate_without_agent(config, aws.market, on_demand, first_workers)
    return DemoReport(
        config=config,
        agent=run.ledger,
        baseline=baseline,
        records=records,
        executions=run.executions,
        wall_seconds=time.perf_counter() - started,
        cycle_wall_seconds=run.cycle_wall_seconds,
        restores=run.restores,
        drill=drill,
    )


def _final_records(aws: Any, pipeline_id: str) -> list[CycleRecord]:
    from costagent.adapters.dynamodb import AuditStore

    store = AuditStore(aws.settings.region, aws.settings.audit_table, client=aws.client("dynamodb"))
    return store.all_for(pipeline_id)


def _draw_progress(minute: int, done: float, config: DemoConfig) -> None:
    width = 30
    filled = int(done * width)
    bar = "#" * filled + "-" * (width - filled)
    sys.stderr.write(f"\r[{bar}] {done:6.1%} of the job  simulated {minute // 60:02d}:{minute % 60:02d}")
    sys.stderr.flush()
