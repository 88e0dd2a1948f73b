using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Writeback.Report;

/// <summary>
/// The report as one self-contained HTML file: inline CSS, the data as embedded JSON, and an inline script that
/// draws each dataset's timeline as SVG (runs placed against their business date's deadline). No external assets,
/// so it can be mailed, archived or opened offline. The tables are rendered here so the page says something without
/// script too.
/// </summary>
public static class HtmlReport
{
    public static string Render(ReportModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var html = new StringBuilder(16 * 1024);
        html.Append("""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Writeback runs</title>
            <style>
            body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1f2328; background: #fff; }
            h1 { font-size: 22px; margin: 0 0 4px; }
            h2 { font-size: 17px; margin: 28px 0 6px; }
            .meta, .detail { color: #57606a; }
            .slo { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12px; color: #fff; background: #57606a; }
            .slo.on-time, .slo.met { background: #1a7f37; }
            .slo.at-risk, .slo.predicted-late { background: #bf8700; }
            .slo.late, .slo.failed { background: #cf222e; }
            svg.timeline { display: block; max-width: 100%; height: auto; margin: 8px 0; }
            svg .grid { stroke: #d0d7de; stroke-width: 1; }
            svg .deadline { stroke: #cf222e; stroke-width: 2; stroke-dasharray: 5 3; }
            svg .deadline-label { fill: #cf222e; font-size: 11px; }
            svg .tick, svg .label { fill: #57606a; font-size: 11px; font-family: ui-monospace, monospace; }
            svg .run { fill: #57606a; }
            svg .run.applied { fill: #2da44e; }
            svg .run.skipped { fill: #8c959f; }
            svg .run.failed { fill: #cf222e; }
            svg .run.running, svg .run.triggered { fill: #0969da; }
            table { border-collapse: collapse; font-size: 12px; margin-top: 6px; }
            th, td { text-align: left; padding: 3px 10px 3px 0; border-bottom: 1px solid #eaeef2; vertical-align: top; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; }
            td.rejected { color: #b45309; font-weight: 600; }
            code { font-family: ui-monospace, monospace; font-size: 12px; }
            .status-failed { color: #cf222e; font-weight: 600; }
            .verdict { display: inline-block; padding: 0 6px; border-radius: 8px; font-weight: 600; white-space: nowrap; }
            .verdict.met { color: #1a7f37; }
            .verdict.running, .verdict.skipped { color: #57606a; }
            .verdict.late, .verdict.late-running { color: #fff; background: #bf4b00; }
            .verdict.failed { color: #fff; background: #cf222e; }
            tr.late td, tr.late-running td { background: #fff1e5; }
            tr.failed td { background: #ffebe9; }
            .counts span { margin-right: 12px; }
            svg .run.late, svg .run.late-running { stroke: #bf4b00; stroke-width: 2; }
            svg .mark { font-size: 11px; font-weight: 700; }
            svg .mark.late, svg .mark.late-running { fill: #bf4b00; }
            svg .mark.failed { fill: #cf222e; }
            </style>
            </head>
            <body>
            <h1>Writeback runs</h1>
            """);
        html.Append(CultureInfo.InvariantCulture, $"<p class=\"meta\">Generated {Time(model.GeneratedAt)}. Bars show each run from arrival to end, placed against its business date's deadline (dashed line). <span id=\"chart-status\">The charts need JavaScript.</span></p>\n");

        for (var i = 0; i < model.Datasets.Count; i++)
        {
            var dataset = model.Datasets[i];
            html.Append(CultureInfo.InvariantCulture, $"""
                <section class="dataset">
                <h2>{E(dataset.Dataset)} <span class="slo {E(dataset.Slo)}">{E(dataset.Slo)}</span></h2>
                <p class="detail">Deadline {E(dataset.Deadline)} · {E(dataset.SloDetail)}</p>
                <p class="counts">{Counts(dataset)}</p>
                <div class="chart" id="chart-{i}"></div>

                """);
            if (dataset.Runs.Count == 0)
            {
                html.Append("<p class=\"detail\">No runs recorded.</p>\n</section>\n");
                continue;
            }

            html.Append("<table><thead><tr><th>batch</th><th>status</th><th>deadline</th><th>business date</th><th>arrived (UTC)</th><th>duration</th><th>rows</th><th>inserted</th><th>updated</th><th>deleted</th><th>unchanged</th><th>rejected</th><th>bytes</th><th>retries</th><th>history</th><th>trace</th><th>error</th></tr></thead><tbody>\n");
            foreach (var run in dataset.Runs)
            {
                var duration = run.End is { } end ? FormatDuration(end - run.Start) : "running";
                var history = run.HistoryLink is { } link ? $"<a href=\"{E(link)}\">history</a>" : "";
                html.Append(CultureInfo.InvariantCulture, $"<tr class=\"{E(run.Verdict)}\" data-batch-id=\"{E(run.BatchId)}\"><td><code>{E(run.BatchId)}</code></td><td class=\"status-{E(run.Status)}\">{E(run.Status)}</td><td><span class=\"verdict {E(run.Verdict)}\">{E(VerdictText(run))}</span></td><td>{E(run.BusinessDate)}</td><td>{Time(run.Start)}</td><td class=\"num\">{duration}</td><td class=\"num\">{Number(run.Rows)}</td><td class=\"num\">{Number(run.Inserted)}</td><td class=\"num\">{Number(run.Updated)}</td><td class=\"num\">{Number(run.Deleted)}</td><td class=\"num\">{Number(run.Unchanged)}</td><td class=\"num{(run.Rejected > 0 ? " rejected" : "")}\">{Number(run.Rejected)}</td><td class=\"num\">{Number(run.Bytes)}</td><td class=\"num\">{run.Retries}</td><td>{history}</td><td><code>{E(run.TraceId ?? "")}</code></td><td>{E(run.Error ?? "")}</td></tr>\n");
            }

            html.Append("</tbody></table>\n</section>\n");
        }

        html.Append("<script type=\"application/json\" id=\"report-data\">");
        // The default encoder escapes <, > and &, so the data cannot close the script element.
        html.Append(JsonSerializer.Serialize(model, ReportJson.Default.ReportModel));
        html.Append("</script>\n<script>\n");
        html.Append(Script);
        html.Append("</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    private const string Script = """
        (function () {
          'use strict';
          var data = JSON.parse(document.getElementById('report-data').textContent);
          var NS = 'http://www.w3.org/2000/svg';
          var HOUR = 3600e3;
          var now = Date.parse(data.generatedAt);
          var drawn = 0;
          function el(name, attrs, text) {
            var e = document.createElementNS(NS, name);
            Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
            if (text !== undefined) { e.textContent = text; }
            return e;
          }
          function label(h) { return h === 0 ? 'deadline' : (h > 0 ? '+' : '\u2212') + Math.abs(h) + 'h'; }
          function shorten(id) { return id.length > 22 ? id.slice(0, 10) + '\u2026' + id.slice(-10) : id; }
          function span(run) {
            var d = Date.parse(run.deadline);
            return [(Date.parse(run.start) - d) / HOUR, ((run.end ? Date.parse(run.end) : now) - d) / HOUR];
          }
          data.datasets.forEach(function (ds, index) {
            var host = document.getElementById('chart-' + index);
            if (!host || ds.runs.length === 0) { return; }
            var ends = [];
            ds.runs.forEach(function (r) { ends = ends.concat(span(r)); });
            var lo = Math.floor(Math.min.apply(null, ends.concat([-6])));
            var hi = Math.ceil(Math.max.apply(null, ends.concat([1])));
            var step = [1, 2, 3, 6, 12, 24, 48, 96].find(function (s) { return (hi - lo) / s <= 12; }) || 168;
            lo = Math.floor(lo / step) * step;
            hi = Math.ceil(hi / step) * step;
            var left = 250, right = 24, top = 30, rowH = 24, width = 960;
            var height = top + ds.runs.length * rowH + 30;
            var x = function (h) { return left + (h - lo) / (hi - lo) * (width - left - right); };
            var svg = el('svg', { width: width, height: height, viewBox: '0 0 ' + width + ' ' + height, 'class': 'timeline', role: 'img',
              'aria-label': 'Recent runs of ' + ds.dataset + ' against the deadline ' + ds.deadline });
            for (var h = lo; h <= hi; h += step) {
              svg.appendChild(el('line', { x1: x(h), x2: x(h), y1: top - 6, y2: height - 24, 'class': h === 0 ? 'deadline' : 'grid' }));
              svg.appendChild(el('text', { x: x(h), y: height - 8, 'class': 'tick', 'text-anchor': 'middle' }, label(h)));
            }
            var nearRight = x(0) > width * 0.7;
            svg.appendChild(el('text', { x: nearRight ? x(0) - 4 : x(0) + 4, y: top - 12, 'class': 'deadline-label', 'text-anchor': nearRight ? 'end' : 'start' }, 'deadline ' + ds.deadline));
            ds.runs.forEach(function (r, i) {
              var s = span(r), y = top + i * rowH;
              svg.appendChild(el('text', { x: left - 8, y: y + rowH / 2 + 4, 'text-anchor': 'end', 'class': 'label' }, r.businessDate + '  ' + shorten(r.batchId)));
              var rect = el('rect', { x: x(s[0]), y: y + 4, width: Math.max(3, x(s[1]) - x(s[0])), height: rowH - 8, rx: 3,
                'class': 'run ' + r.status + ' ' + r.verdict, 'data-batch-id': r.batchId });
              // Late and failed say so in words beside the bar: colour alone is missed, and lost in print.
              var marks = { 'late': 'LATE', 'late-running': 'LATE, running', 'failed': 'FAILED' };
              if (marks[r.verdict]) {
                svg.appendChild(el('text', { x: Math.min(x(s[1]) + 6, width - right), y: y + rowH / 2 + 4, 'class': 'mark ' + r.verdict,
                  'text-anchor': x(s[1]) + 90 > width ? 'end' : 'start' }, marks[r.verdict]));
              }
              rect.appendChild(el('title', {}, r.batchId + '\n' + r.status + ', business date ' + r.businessDate + '\narrived ' + r.start +
                (r.end ? '\nended ' + r.end : '\nstill running') + (r.error ? '\n' + r.error : '')));
              svg.appendChild(rect);
              drawn++;
            });
            host.appendChild(svg);
          });
          document.getElementById('chart-status').textContent = 'Charted ' + drawn + ' runs.';
          document.body.setAttribute('data-rendered', 'true');
        })();

        """;

    /// <summary>"LATE by 1 h 5 min", "met, 2 h 3 min early", "FAILED"…: the verdict in words, not only in colour.</summary>
    private static string VerdictText(ReportRun run)
    {
        var margin = run.MarginMinutes is { } minutes ? FormatDuration(TimeSpan.FromMinutes(Math.Abs(minutes))) : "";
        return run.Verdict switch
        {
            Timeliness.Failed => "FAILED",
            Timeliness.Late => $"LATE by {margin}",
            Timeliness.LateRunning => $"LATE, running {margin} past",
            Timeliness.Met => $"met, {margin} early",
            Timeliness.Running => $"running, {margin} left",
            _ => run.Verdict,
        };
    }

    private static string Counts(ReportDataset dataset) =>
        dataset.Runs.Count == 0 ? "" : $"{dataset.Runs.Count} runs: " + string.Join(", ", dataset.Counts.Select(c =>
            $"<span class=\"verdict {E(c.Key)}\">{c.Value.ToString(CultureInfo.InvariantCulture)} {E(c.Key == Timeliness.LateRunning ? "late, still running" : c.Key)}</span>"));

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Number(long? value) => value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "";

    private static string FormatDuration(TimeSpan span) => Slo.Durations.Format(span);
}
