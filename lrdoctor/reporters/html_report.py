"""HTML: one self-contained file for a CI artifact (``--save html=report.html``).

The summary table (sortable: click a column's header), the data-quality notes said once, then one
section per run with its annotated plot inline (a PNG in a ``data:`` URI) and its findings, the
rules' evidence folded away.  No network and no external assets: the styles and the sorting
script are inline, and a Content-Security-Policy forbids loading anything else.

``plots``: run name -> PNG bytes, drawn by the caller (the CLI), since a report holds no curves.
"""
from __future__ import annotations

import base64
import html
import math

from . import _format as fmt
from . import _plain as plain
from .records import report_to_dict
from .text_report import closing_line, notes, table_rows

STATUS_RANK = {"crashed": 5, "error": 4, "warning": 3, "info": 2, "ok": 1}
MAX_PLOTS = 300  # beyond this many runs the file would pass ~25 MB; the rest say so

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1280px;
padding:0 16px;color:#1b1f23;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px;word-break:break-all}
.sub{color:#57606a;margin:0 0 16px}
table{border-collapse:collapse;width:100%;margin:8px 0 16px}
th,td{border-bottom:1px solid #d0d7de;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.run{word-break:break-all;max-width:420px}td.lr,td.action{white-space:nowrap}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;color:#fff}
.crashed{background:#8250df}.error{background:#cf222e}.warning{background:#bf8700}.info{background:#0969da}
.ok{background:#1a7f37}.spark{font-family:ui-monospace,monospace;font-size:10px;white-space:nowrap;color:#57606a}
.rec{font-weight:600;margin:4px 0}img{max-width:100%;border:1px solid #d0d7de;margin:6px 0}
ul.findings{padding-left:20px}code{font-family:ui-monospace,monospace;font-size:12px}
details{color:#57606a;margin:2px 0 8px}section{border-top:1px solid #d0d7de;margin-top:18px}
"""

SCRIPT = """
document.querySelectorAll('table.sortable th').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0];
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    var key = function (row) {
      var cell = row.cells[col], v = cell.getAttribute('data-sort');
      v = v === null ? cell.textContent.trim() : v;
      var n = parseFloat(v);
      return isNaN(n) || String(n) !== v.trim() ? v.toLowerCase() : n;
    };
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
document.body.setAttribute('data-sortable', 'ready');
"""

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def esc(text) -> str:
    """Escaped for HTML, control characters made visible."""
    return html.escape(fmt.visible(text), quote=True)


def render(report, *, plots: dict | None = None, **_options) -> str:
    doc = report_to_dict(report)
    plots = plots or {}
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>lrdoctor report</title>", f"<style>{CSS}</style></head><body>",
        "<h1>lrdoctor report</h1>",
        f'<p class="sub">{esc(closing_line(doc["summary"]))} · lrdoctor {esc(doc["tool"]["version"])} · '
        "click a column's header to sort</p>",
    ]
    parts += _summary_table(doc["runs"])
    parts += _notes(doc["runs"])
    parts += _problems(doc["problems"])
    parts += _sweeps(doc["sweeps"])
    for i, run in enumerate(doc["runs"]):
        parts += _run_section(run, plots.get(run["run"]) if i < MAX_PLOTS else None, plotted=i < MAX_PLOTS)
    parts += [f"<script>{SCRIPT}</script>", "</body></html>"]
    return "\n".join(parts) + "\n"


def _badge(status: str) -> str:
    return f'<span class="badge {esc(status)}">{esc(status.upper())}</span>'


def _summary_table(runs: list[dict]) -> list[str]:
    if not runs:
        return ["<p>No runs were diagnosed.</p>"]
    out = ['<table class="sortable" id="summary"><thead><tr><th>Run</th><th>Status</th><th>Action</th>'
           "<th>LR now → new</th><th>Why</th><th>Loss</th></tr></thead><tbody>"]
    for run, (name, status, action, lr, why) in zip(runs, table_rows(runs)):
        rec = run["recommendation"] or {}
        lr_key = rec.get("suggested_lr") if rec.get("suggested_lr") is not None else ""
        out.append(
            f'<tr><td class="run"><a href="#run-{esc(run["id"])}">{esc(name)}</a></td>'
            f'<td data-sort="{STATUS_RANK.get(run["verdict"], 0)}">{_badge(run["verdict"])}</td>'
            f"<td class=\"action\">{esc(action)}</td><td class=\"lr\" data-sort=\"{esc(lr_key)}\">{esc(lr)}</td>"
            f'<td>{esc(why)}</td><td class="spark">{spark_svg(run["loss_preview"])}</td></tr>')
    return out + ["</tbody></table>"]


def spark_svg(values, width: int = 120, height: int = 22) -> str:
    """The training loss as an inline SVG line (log-scaled when positive and spanning > 1 decade, as in
    the text sparkline); NaN/inf points as red crosses on the top edge.  Empty when there is no curve."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not values:
        return ""
    use_log = bool(finite) and min(finite) > 0 and max(finite) / min(finite) > 10
    tr = math.log10 if use_log else float
    lo, hi = (min(map(tr, finite)), max(map(tr, finite))) if finite else (0.0, 1.0)
    span = (hi - lo) or 1.0
    step = (width - 4) / max(1, len(values) - 1)
    points, crosses = [], []
    for i, v in enumerate(values):
        x = 2 + i * step
        if v is None or not math.isfinite(v):
            crosses.append(f'<path d="M{x - 2:.1f} 1L{x + 2:.1f} 5M{x - 2:.1f} 5L{x + 2:.1f} 1"/>')
        else:
            points.append(f"{x:.1f},{height - 2 - (tr(v) - lo) / span * (height - 8):.1f}")
    line = (f'<polyline fill="none" stroke="#0969da" stroke-width="1.5" points="{" ".join(points)}"/>'
            if points else "")
    marks = f'<g stroke="#cf222e" stroke-width="1.2">{"".join(crosses)}</g>' if crosses else ""
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="training loss">{line}{marks}</svg>')


def _notes(runs: list[dict]) -> list[str]:
    found = notes(runs)
    if not found:
        return []
    items = [f"<li>{esc(plain.note_text(code, name, names))} <code>{esc(code)}</code>"
             f"<details><summary>runs</summary>{esc(', '.join(names))}</details></li>"
             for code, name, names in found]
    return ["<h2>Notes on the logs (not learning-rate problems)</h2>", "<ul>", *items, "</ul>"]


def _problems(problems: list[dict]) -> list[str]:
    if not problems:
        return []
    return ["<h2>Not diagnosed</h2>", "<ul>", *(f"<li>{esc(fmt.problem(p))}</li>" for p in problems), "</ul>"]


def _sweeps(sweeps: list[dict]) -> list[str]:
    out = []
    for sweep in sweeps:
        lines = fmt.sweep_lines(sweep)
        out += [f"<h2>{esc(lines[0])}</h2>", "<ul>", *(f"<li>{esc(line.strip())}</li>" for line in lines[1:]),
                "</ul>"]
    return out


def _run_section(run: dict, png: bytes | None, *, plotted: bool) -> list[str]:
    rec = run["recommendation"]
    out = [f'<section id="run-{esc(run["id"])}">', f"<h2>{esc(run['run'])} {_badge(run['verdict'])}</h2>",
           f'<p class="sub">{esc(run["format"])}</p>']
    if rec:
        out.append(f'<p class="rec">→ {esc(fmt.recommendation(rec))}</p>')
        out.append(f"<details><summary>advice ({esc(rec['confidence'])} confidence)</summary>"
                   f"{esc(rec['reason'])}</details>")
    if png:
        out.append(f'<img alt="plot of {esc(run["run"])}" src="data:image/png;base64,'
                   f'{base64.b64encode(png).decode("ascii")}">')
    elif not plotted:
        out.append("<p><em>plot left out: too many runs for one file</em></p>")
    out += _findings(run)
    return out + ["</section>"]


def _findings(run: dict) -> list[str]:
    items = []
    for name in run.get("crashed") or ():
        items.append(f"<li>{_badge('crashed')} {esc(name)} could not run: the diagnosis is incomplete</li>")
    for f in run["findings"]:
        where = fmt.steps(f["start_step"], f["end_step"])
        evidence = (f"<details><summary>evidence</summary><code>{esc(fmt.evidence(f['evidence']))}</code></details>"
                    if f["evidence"] else "")
        items.append(f"<li>{_badge(f['severity'])} <code>{esc(f['code'])}</code> {esc(f['name'])}"
                     f"{' (' + esc(where) + ')' if where else ''}: {esc(f['message'])}{evidence}</li>")
    items += [f"<li>note: {esc(n)}</li>" for n in run.get("notes") or ()]
    items += [f"<li>reading problem: {esc(fmt.problem(p))}</li>" for p in run["problems"]]
    return ['<ul class="findings">', *items, "</ul>"] if items else []
