"""The plan page as one self-contained HTML file: inline SVG, CSS and a few lines of JavaScript.

It draws each step as a box holding its Kedro nodes, with its compute and environment, and each
data edge labelled with the datasets that cross it; the critical path is drawn darker. With the
state of a run, every node shows its step's state, duration and a link to its log, and a table
below the drawing lists the same per node. Nothing is fetched: no CDN, no font, no script file;
links to logs and Studio pages are followed only when the reader clicks them.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections import Counter
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

from kedro_azureml_deploy import __version__
from kedro_azureml_deploy.plan_page.layout import (
    BOX_PADDING,
    CHAR_WIDTH,
    NODE_ROW_HEIGHT,
    Box,
    critical_path,
    lay_out,
)
from kedro_azureml_deploy.plan_page.step_progress import (
    PAGE_STATES,
    StepProgress,
    format_duration,
)

#: A node's state when the page shows a plan without a run.
PLANNED = "planned"
#: How many dataset names an edge label shows before "+N more" (the tooltip has them all).
LABEL_DATASETS = 2
#: How many characters of a dataset name fit in the gap between two columns.
LABEL_CHARS = 24
#: How often an open page of a run that is still going reloads itself, in seconds.
RELOAD_SECONDS = 5


def render_plan_page(
    plan: Mapping[str, Any],
    statuses: Mapping[str, StepProgress] | None = None,
    *,
    run: str | None = None,
    live: bool = False,
    generated_at: str | None = None,
) -> str:
    """The page of ``plan`` (``JobPlan.to_dict()``), showing the state of each step in
    ``statuses`` (by step name; steps left out are ``queued`` when there is a run).

    Args:
        plan: the plan dictionary (``kedro azureml plan --format json``).
        statuses: each step's progress, or ``None`` for the plan alone.
        run: what the statuses are of, shown in the header (a replay run id, a job name).
        live: the run is still going: the open page reloads itself every few seconds.
        generated_at: when the page was written, shown in its footer.
    """
    layout = lay_out(plan)
    steps = list(plan.get("steps", ()))
    critical = critical_path(steps)
    on_critical = set(itertools.pairwise(critical))
    progress: dict[str, StepProgress | None] = {
        step["name"]: (
            statuses.get(step["name"], StepProgress("queued")) if statuses is not None else None
        )
        for step in steps
    }

    svg: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="graph" width="{layout.width:.0f}" '
        f'height="{layout.height:.0f}" viewBox="0 0 {layout.width:.0f} {layout.height:.0f}" '
        'role="img" aria-label="the steps of the job and the data between them">',
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' "
        "markerHeight='7' orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' "
        "fill='#8a94a6'/></marker><marker id='arrow-critical' viewBox='0 0 10 10' refX='9' "
        "refY='5' markerWidth='7' markerHeight='7' orient='auto-start-reverse'><path "
        "d='M0,0 L10,5 L0,10 z' fill='#3d4b66'/></marker></defs>",
    ]
    datasets_of = {
        (edge["from"], edge["to"]): list(edge.get("datasets", ())) for edge in plan.get("edges", ())
    }
    for edge in layout.edges:
        datasets = datasets_of.get((edge.source, edge.target), [])
        critical_edge = (edge.source, edge.target) in on_critical
        kind = "edge critical" if critical_edge else "edge"
        marker = "arrow-critical" if critical_edge else "arrow"
        searchable = " ".join(datasets).lower()
        svg.append(
            f'<g class="{kind}" data-from="{escape(edge.source)}" data-to="{escape(edge.target)}" '
            f'data-search="{escape(searchable)}"><title>{escape(edge.source)} → '
            f"{escape(edge.target)}: {escape(', '.join(datasets))}</title>"
            f'<path d="{edge.path}" marker-end="url(#{marker})"/>'
        )
        if datasets:
            lines = [_cut(name, LABEL_CHARS) for name in datasets[:LABEL_DATASETS]]
            if len(datasets) > LABEL_DATASETS:
                lines.append(f"+{len(datasets) - LABEL_DATASETS} more")
            top = edge.label_y - 4 - (len(lines) - 1) * 13
            spans = "".join(
                f'<tspan x="{edge.label_x:.1f}" y="{top + 13 * i:.1f}">{escape(line)}</tspan>'
                for i, line in enumerate(lines)
            )
            svg.append(f'<text class="edge-label" text-anchor="middle">{spans}</text>')
        svg.append("</g>")
    for step in steps:
        svg.append(
            _step_box(
                step, layout.boxes[step["name"]], progress[step["name"]], step["name"] in critical
            )
        )
    svg.append("</svg>")

    rows = [
        _node_row(node, step, progress[step["name"]])
        for step in steps
        for node in step.get("nodes", ())
    ]
    totals = plan.get("totals", {})
    counts = Counter(p.state for p in progress.values() if p is not None)
    title = f"{plan.get('job', 'job')}: plan" + (f" and {run}" if run else "")
    chips = [
        _chip(totals.get("nodes", sum(len(s.get("nodes", ())) for s in steps)), "nodes"),
        _chip(totals.get("steps", len(steps)), "steps"),
        _chip(totals.get("critical_path_steps", len(critical)), "steps on the critical path"),
        _chip(totals.get("crossing_datasets", 0), "datasets crossing steps"),
    ]
    run_line = ""
    if statuses is not None:
        states = " ".join(
            f'<span class="count state-{state}"><i></i>{counts.get(state, 0)} {state}</span>'
            for state in PAGE_STATES
        )
        what = f"{escape(run)}" if run else "the run"
        going = " — still going: this page reloads itself" if live else ""
        run_line = f'<p class="run">Steps of {what}: {states}<span class="going">{going}</span></p>'
    reload_script = (
        "setTimeout(function(){try{sessionStorage.setItem('planScroll',JSON.stringify("
        "[scrollX,scrollY,graphBox.scrollLeft,graphBox.scrollTop]));}catch(e){}"
        f"location.reload();}},{RELOAD_SECONDS * 1000});"
        if live
        else ""
    )
    return "".join(
        [
            "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
            "<header><h1>Job <code>",
            escape(str(plan.get("job", ""))),
            "</code></h1><p class='meta'>pipeline <code>",
            escape(str(plan.get("pipeline", ""))),
            "</code> · grouping <code>",
            escape(str(plan.get("grouping", ""))),
            "</code></p><div class='chips'>",
            "".join(chips),
            "</div>",
            run_line,
            "</header><main>",
            "<div class='toolbar'><input id='find' type='search' placeholder='Find a node, step "
            "or dataset' aria-label='find a node, step or dataset'><span id='found'></span>",
            "<span class='legend'>",
            "".join(f'<span class="state-{s}"><i></i>{s}</span>' for s in PAGE_STATES)
            if statuses is not None
            else "",
            "<span class='crit'><b></b>critical path</span></span></div>",
            "<div id='graph-box'>",
            "".join(svg),
            "</div><h2>Nodes</h2><table id='nodes'><thead><tr><th>node</th><th>step</th>",
            "<th>state</th><th>started</th><th>duration</th><th>compute</th><th>environment</th>",
            "<th>log</th></tr></thead><tbody>",
            "".join(rows),
            "</tbody></table></main><footer>Written by kedro-azureml ",
            escape(__version__),
            f" at {escape(generated_at)}" if generated_at else "",
            ". The plan is what <code>kedro azureml compile</code> sends to Azure ML.</footer>",
            f"<script>{_SCRIPT}{reload_script}</script></body></html>\n",
        ]
    )


def write_plan_page(path: Path, html: str) -> Path:
    """Write ``html`` to ``path`` atomically (a temporary file renamed over it), so a browser
    reloading it reads the old page or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(html)
        Path(temporary).replace(path)  # os.replace: atomic on POSIX
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _chars(box: Box, reserved: float = 0) -> int:
    return max(8, int((box.width - 2 * BOX_PADDING - reserved) / CHAR_WIDTH))


def _step_box(
    step: Mapping[str, Any], box: Box, progress: StepProgress | None, critical: bool
) -> str:
    name = step["name"]
    state = progress.state if progress else PLANNED
    where = f"{step.get('compute', '')} · {step.get('environment', '')}"
    tooltip = [
        f"step {name}",
        f"compute {step.get('compute', '')}",
        f"environment {step.get('environment', '')}",
    ]
    if step.get("inputs"):
        tooltip.append("inputs: " + ", ".join(step["inputs"]))
    if step.get("outputs"):
        tooltip.append("outputs: " + ", ".join(step["outputs"]))
    if progress and progress.detail:
        tooltip.append(progress.detail)
    parts = [
        f'<g class="step state-{state}{" on-critical" if critical else ""}" data-step="{escape(name)}" '
        f'data-search="{escape(name.lower())}"><title>{escape(chr(10).join(tooltip))}</title>',
        f'<rect class="box" x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
        f'height="{box.height:.1f}" rx="8"/>',
        f'<rect class="band" x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="6" rx="3"/>',
        f'<text class="step-name" x="{box.x + BOX_PADDING:.1f}" y="{box.y + 22:.1f}">'
        f"{escape(_cut(name, _chars(box, 60)))}</text>",
    ]
    if progress and progress.duration is not None:
        parts.append(
            f'<text class="step-time" x="{box.x + box.width - BOX_PADDING:.1f}" y="{box.y + 22:.1f}" '
            f'text-anchor="end">{escape(format_duration(progress.duration))}</text>'
        )
    parts.append(
        f'<text class="where" x="{box.x + BOX_PADDING:.1f}" y="{box.y + 38:.1f}">'
        f"{escape(_cut(where, _chars(box)))}</text>"
    )
    for index, node in enumerate(step.get("nodes", ())):
        top = box.node_y(index)
        row = [
            f'<g class="node state-{state}" data-node="{escape(node)}" data-state="{state}" '
            f'data-search="{escape(node.lower())}"><title>{escape(node)} ({state})</title>',
            f'<rect class="node-row" x="{box.x + 4:.1f}" y="{top:.1f}" width="{box.width - 8:.1f}" '
            f'height="{NODE_ROW_HEIGHT - 2}" rx="4"/>',
            f'<circle class="dot" cx="{box.x + BOX_PADDING + 5:.1f}" cy="{top + 10:.1f}" r="4.5"/>',
            f'<text class="node-name" x="{box.x + BOX_PADDING + 15:.1f}" y="{top + 14:.1f}">'
            f"{escape(_cut(node, _chars(box, 20)))}</text>",
        ]
        if progress and progress.log:
            row.insert(1, f'<a href="{escape(progress.log)}" target="_blank" class="log-link">')
            row.append("</a>")
        row.append("</g>")
        parts.append("".join(row))
    parts.append("</g>")
    return "".join(parts)


def _node_row(node: str, step: Mapping[str, Any], progress: StepProgress | None) -> str:
    state = progress.state if progress else PLANNED
    log = (
        f'<a href="{escape(progress.log)}" target="_blank">log</a>'
        if progress and progress.log
        else ""
    )
    detail = (
        f'<div class="detail">{escape(progress.detail)}</div>'
        if progress and progress.detail
        else ""
    )
    return (
        f'<tr class="state-{state}" data-node="{escape(node)}" data-search="{escape(node.lower())} '
        f'{escape(step["name"].lower())}"><td><code>{escape(node)}</code></td>'
        f"<td><code>{escape(step['name'])}</code></td>"
        f'<td class="state"><i></i>{state}{detail}</td>'
        f"<td>{escape((progress.started or '') if progress else '')}</td>"
        f"<td>{escape(format_duration(progress.duration) if progress else '')}</td>"
        f"<td>{escape(str(step.get('compute', '')))}</td>"
        f"<td>{escape(str(step.get('environment', '')))}</td><td>{log}</td></tr>"
    )


def _chip(value: Any, what: str) -> str:
    return f"<span class='chip'><b>{escape(str(value))}</b> {escape(what)}</span>"


_CSS = """
:root{--ink:#1f2933;--muted:#6b7785;--line:#d9dee5;--bg:#f6f8fa;--queued:#a0aab8;
--running:#2f80ed;--completed:#219653;--failed:#d64545;--skipped:#d9a400;--planned:#5b6b85}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header{padding:18px 28px 10px;background:#fff;border-bottom:1px solid var(--line)}
h1{margin:0;font-size:22px}h2{font-size:16px;margin:22px 0 8px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.95em}
.meta{margin:2px 0 10px;color:var(--muted)}.chips{display:flex;gap:8px;flex-wrap:wrap}
.chip{background:var(--bg);border:1px solid var(--line);border-radius:14px;padding:2px 12px}
.run{margin:10px 0 0}.count{margin-right:12px;white-space:nowrap}.going{color:var(--muted)}
main{padding:14px 28px 30px}.toolbar{display:flex;gap:14px;align-items:center;margin-bottom:10px;
flex-wrap:wrap}#find{width:280px;padding:6px 10px;border:1px solid var(--line);border-radius:6px;
font:inherit}#found{color:var(--muted);min-width:70px}.legend{display:flex;gap:12px;
color:var(--muted);flex-wrap:wrap}
.legend i,.count i,td.state i{display:inline-block;width:10px;height:10px;border-radius:50%;
margin-right:5px;background:var(--c)}
.crit b{display:inline-block;width:22px;height:3px;background:#3d4b66;margin-right:5px;
vertical-align:middle}
.state-queued{--c:var(--queued)}.state-running{--c:var(--running)}
.state-completed{--c:var(--completed)}.state-failed{--c:var(--failed)}
.state-skipped{--c:var(--skipped)}.state-planned{--c:var(--planned)}
#graph-box{overflow:auto;max-height:78vh;background:#fff;border:1px solid var(--line);
border-radius:8px}
svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;fill:var(--ink)}
.step .box{fill:#fff;stroke:var(--c);stroke-width:1.5}.step .band{fill:var(--c)}
.step.on-critical .box{stroke-width:2.5}
.step-name{font-weight:600!important;font-size:13px!important}
.where,.step-time{fill:var(--muted)!important;font-size:11px!important}
.node-row{fill:#f3f5f8}.node:hover .node-row{fill:#e4ebf5}.dot{fill:var(--c)}
.state-running .dot{animation:pulse 1.2s ease-in-out infinite}
@keyframes pulse{50%{opacity:.35}}
.log-link .node-name{fill:#1d5fbf;text-decoration:underline}
.edge path{fill:none;stroke:#a9b2c0;stroke-width:1.4}.edge.critical path{stroke:#3d4b66;
stroke-width:2.2}.edge-label{font-size:11px!important;fill:#4a5565!important;paint-order:stroke;
stroke:#fff;stroke-width:4px;stroke-linejoin:round}
.dim{opacity:.18}.hit .box,.hit .node-row{stroke:#f2994a;stroke-width:3}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}
th,td{text-align:left;padding:5px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--bg);font-weight:600}tr.dim{display:none}.detail{color:var(--failed);
font-size:12px}footer{padding:0 28px 24px;color:var(--muted);font-size:12px}
"""

_SCRIPT = """
var graphBox=document.getElementById('graph-box');
(function(){try{var saved=sessionStorage.getItem('planScroll');if(saved){var s=JSON.parse(saved);
scrollTo(s[0],s[1]);graphBox.scrollLeft=s[2];graphBox.scrollTop=s[3];
sessionStorage.removeItem('planScroll');}}catch(e){}})();
document.getElementById('find').addEventListener('input',function(){
var q=this.value.trim().toLowerCase(),n=0;
document.querySelectorAll('[data-search]').forEach(function(el){el.classList.remove('dim','hit');});
document.querySelectorAll('.step').forEach(function(step){
var own=q&&step.dataset.search.indexOf(q)>=0,nodes=step.querySelectorAll('.node'),any=own;
nodes.forEach(function(node){var m=q&&node.dataset.search.indexOf(q)>=0;if(m){any=true;n++;
node.classList.add('hit');}});if(q&&!any){step.classList.add('dim');}else if(own){
step.classList.add('hit');}});
document.querySelectorAll('.edge').forEach(function(edge){if(q&&edge.dataset.search.indexOf(q)<0)
{edge.classList.add('dim');}});
document.querySelectorAll('#nodes tbody tr').forEach(function(row){if(q&&
row.dataset.search.indexOf(q)<0){row.classList.add('dim');}});
document.getElementById('found').textContent=q?n+' node'+(n==1?'':'s'):'';});
"""
