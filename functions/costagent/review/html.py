"""The report as one self-contained HTML page: the same figures as the terminal table, with bar charts
drawn as inline SVG (no plotting library, no script, nothing fetched). Every text that came from a record
(instance ids, reasons, notes: data from AWS and from planners) is escaped. Pure."""

from __future__ import annotations

from html import escape

from costagent.review.report import ObservationReport

BAR_CHART_WIDTH_PX = 560
BAR_HEIGHT_PX = 22
LABEL_WIDTH_PX = 190
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #1d2329; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .5em 0; } td, th { padding: 3px 10px; text-align: left;
vertical-align: top; border-bottom: 1px solid #eaeef2; } th { background: #f6f8fa; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } .bad { color: #b42318; font-weight: 600; }
.ok { color: #067647; } svg text { font: 12px system-ui, sans-serif; } .muted { color: #57606a; }
"""


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def bar_chart(title: str, items: list[tuple[str, float]], unit: str = "") -> str:
    """Horizontal bars, one per item, longest first as given; empty data says so instead of drawing."""
    if not items:
        return f"<p class='muted'>{escape(title)}: none.</p>"
    top = max(value for _, value in items) or 1.0
    height = BAR_HEIGHT_PX * len(items) + 8
    rows = []
    for index, (label, value) in enumerate(items):
        y = index * BAR_HEIGHT_PX + 4
        width = max(1.0, (BAR_CHART_WIDTH_PX - LABEL_WIDTH_PX - 80) * value / top)
        shown = f"{value:,.4f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
        rows.append(
            f"<text x='{LABEL_WIDTH_PX - 6}' y='{y + 15}' text-anchor='end'>{escape(label[:32])}</text>"
            f"<rect x='{LABEL_WIDTH_PX}' y='{y + 3}' width='{width:.1f}' height='{BAR_HEIGHT_PX - 6}' "
            f"fill='#3b82f6'><title>{escape(label)}: {escape(shown)}{escape(unit)}</title></rect>"
            f"<text x='{LABEL_WIDTH_PX + width + 6:.1f}' y='{y + 15}'>{escape(shown)}{escape(unit)}</text>"
        )
    return (
        f"<figure><figcaption>{escape(title)}</figcaption>"
        f"<svg role='img' aria-label='{escape(title)}' width='{BAR_CHART_WIDTH_PX}' height='{height}' "
        f"xmlns='http://www.w3.org/2000/svg'>{''.join(rows)}</svg></figure>"
    )


def _table(header: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=n' if i in numeric else ''}>{cell}</td>" for i, cell in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _sorted(counts: dict[str, int]) -> list[tuple[str, float]]:
    return [(k, float(v)) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def render_html(report: ObservationReport) -> str:
    r = report
    summary = _table(
        ["figure", "value"],
        [
            [
                "period",
                escape(f"{r.first_cycle or '-'} to {r.last_cycle or '-'} ({r.days_covered:.2f} days)"),
            ],
            ["cycles", str(r.cycles)],
            ["modes", escape(", ".join(f"{k} {v}" for k, v in r.modes.items()) or "none")],
            ["fallback rate", _pct(r.fallback_rate)],
            ["reuse rate", _pct(r.reuse_rate)],
            ["clamp rate", f"{_pct(r.clamp_rate)} ({r.clamped_cycles} cycles)"],
            [
                "decision latency",
                f"median {_ms(r.decision_latency.median_ms)}, p95 {_ms(r.decision_latency.p95_ms)}, "
                f"max {_ms(r.decision_latency.max_ms)}",
            ],
            ["Claude", escape(f"{r.llm_calls} calls, ${r.llm_estimated_usd:.4f} ({r.llm_price_note})")],
            ["failed cycles", str(r.failed_cycles)],
        ],
    )
    clamp_rows = [
        [
            escape(c.rule),
            str(c.events),
            str(c.cycles),
            "<br>".join(f"{n} &times; {escape(t)}" for t, n in c.top_reasons),
        ]
        for c in r.clamp_rules
    ]
    latency_bands = [
        (f"\u2264 {bound:,.0f} ms", float(count)) for bound, count in r.decision_latency.histogram
    ]
    llm_rows = [
        [
            escape(d.day),
            str(d.calls),
            f"{d.input_tokens:,}",
            f"{d.output_tokens:,}",
            f"{d.cache_read_tokens:,}",
            f"{d.cache_write_tokens:,}",
            f"${d.estimated_usd:.4f}",
        ]
        for d in r.llm_days
    ]
    would_rows = [
        [str(w.count), escape(w.action), escape(w.kind), escape(w.target), escape(f"{w.first} .. {w.last}")]
        for w in r.would_run
    ]
    interruption_rows = [
        [
            escape(i.cycle_time),
            escape(i.kind),
            escape(i.instance_id or "?"),
            escape(i.pool),
            escape(i.checkpoint),
            "-" if i.request_seconds is None else f"{i.request_seconds:.2f} s",
            "<span class=ok>in time</span>" if i.in_time else "<span class=bad>not in time</span>",
            escape(i.landed or "-"),
        ]
        for i in r.interruptions
    ]
    operator_rows = [
        [
            escape(str(a.get("time"))),
            escape(str(a.get("kind"))),
            escape(str(a.get("by"))),
            escape(f"{a.get('from_mode')} -> {a.get('to_mode')}" if a.get("to_mode") else "sign-off"),
            escape(str(a.get("outcome"))),
            escape(str(a.get("note") or "")),
        ]
        for a in r.operator_actions
    ]
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>costagent report: {escape(r.pipeline_id)}</title><style>{STYLE}</style></head><body>",
        f"<h1>costagent report: {escape(r.pipeline_id)}</h1>",
        f"<p class=muted>{r.records} audit records"
        + (f", since {escape(r.since)}" if r.since else "")
        + "</p>",
        summary,
        "<h2>Decisions</h2>",
        bar_chart("decisions by action", _sorted(r.decisions_by_action)),
        bar_chart("planner", _sorted(r.planners)),
        "<h2>Clamps</h2>",
        bar_chart("clamp events by rule", [(c.rule, float(c.events)) for c in r.clamp_rules]),
        _table(["rule", "events", "cycles", "most frequent reasons"], clamp_rows, {1, 2})
        if clamp_rows
        else "",
        "<h2>Latency</h2>",
        bar_chart("cycles by decision latency (trigger to record)", latency_bands),
        "<h2>Claude</h2>",
        bar_chart("estimated USD per day", [(d.day, d.estimated_usd) for d in r.llm_days], " USD"),
        _table(
            ["day", "calls", "input", "output", "cache read", "cache written", "estimated"],
            llm_rows,
            {1, 2, 3, 4, 5, 6},
        )
        if llm_rows
        else "<p class=muted>No Claude calls.</p>",
        "<h2>What would have run (observe mode)</h2>",
        bar_chart("actions that would have run, by kind", _sorted(r.would_run_by_kind)),
        _table(["times", "decision", "action", "target", "first .. last"], would_rows, {0})
        if would_rows
        else "",
        "<h2>Spot interruptions</h2>",
        _table(
            ["warning", "kind", "instance", "pool", "checkpoint", "asked after", "verdict", "next cycle"],
            interruption_rows,
        )
        if interruption_rows
        else "<p class=muted>No spot signals.</p>",
    ]
    if operator_rows:
        parts += [
            "<h2>Operator actions</h2>",
            _table(["time", "act", "by", "mode", "outcome", "note"], operator_rows),
        ]
    parts.append("</body></html>")
    return "\n".join(parts)
