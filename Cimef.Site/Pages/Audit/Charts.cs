using System.Globalization;

namespace Cimef.Site.Pages.AuditPages;

/// <summary>
/// Geometry for the server-rendered SVG charts of the statistics page (drawn by _Chart.cshtml): no chart
/// library, no script, no inline style. Coordinates are preformatted with the invariant culture for SVG.
/// </summary>
public static class Charts
{
    public sealed record Bar(string X, string Y, string Width, string Height, string Css, string Tip);
    public sealed record Label(string X, string Y, string Text, string Anchor);
    public sealed record Legend(string Css, string Name);
    public sealed record Chart(string Id, string Title, int Width, int Height, IReadOnlyList<Bar> Bars, IReadOnlyList<Label> Labels, IReadOnlyList<Legend> Legends);
    public sealed record Series(string Name, string Css, IReadOnlyList<long> Values);

    private const int Width = 640;

    /// <summary>Grouped columns, one group per day; a few day labels and the maximum on the axis.</summary>
    public static Chart Columns(string id, string title, IReadOnlyList<string> days, IReadOnlyList<Series> series)
    {
        const int height = 220, left = 40, right = 8, top = 10, bottom = 30;
        var plotW = Width - left - right;
        var plotH = height - top - bottom;
        var max = Math.Max(1, series.SelectMany(s => s.Values).DefaultIfEmpty(0).Max());
        var slot = plotW / (double)Math.Max(1, days.Count);
        var barW = slot * 0.8 / Math.Max(1, series.Count);
        var bars = new List<Bar>();
        for (var d = 0; d < days.Count; d++)
            for (var s = 0; s < series.Count; s++)
            {
                var v = series[s].Values[d];
                var h = plotH * v / (double)max;
                bars.Add(new Bar(F(left + d * slot + slot * 0.1 + s * barW), F(top + plotH - h), F(barW), F(h), series[s].Css,
                    $"{DayLabel(days[d])} — {series[s].Name} : {v}"));
            }
        var labels = new List<Label>
        {
            new(F(left - 4), F(top + 8), max.ToString(CultureInfo.InvariantCulture), "end"),
            new(F(left - 4), F(top + plotH), "0", "end"),
        };
        var every = Math.Max(1, (int)Math.Ceiling(days.Count / 6.0));
        for (var d = 0; d < days.Count; d += every)
            labels.Add(new Label(F(left + d * slot + slot / 2), F(height - 10), DayLabel(days[d]), "middle"));
        return new Chart(id, title, Width, height, bars, labels, series.Select(s => new Legend(s.Css, s.Name)).ToList());
    }

    /// <summary>Horizontal bars, one per category, label on the left and value at the end of the bar.</summary>
    public static Chart Bars(string id, string title, IReadOnlyList<(string Label, long Value)> rows, string css = "bar")
    {
        const int rowH = 28, left = 210, right = 70, top = 6;
        var height = Math.Max(1, rows.Count) * rowH + top * 2;
        var plotW = Width - left - right;
        var max = Math.Max(1, rows.Select(r => r.Value).DefaultIfEmpty(0).Max());
        var bars = new List<Bar>();
        var labels = new List<Label>();
        for (var i = 0; i < rows.Count; i++)
        {
            var (label, value) = rows[i];
            var w = plotW * value / (double)max;
            var y = top + i * rowH;
            bars.Add(new Bar(F(left), F(y + 3), F(w), F(rowH - 6), css, $"{label} : {value}"));
            labels.Add(new Label(F(left - 6), F(y + rowH / 2.0 + 5), label.Length > 24 ? label[..23] + "…" : label, "end"));
            labels.Add(new Label(F(left + w + 4), F(y + rowH / 2.0 + 5), value.ToString(CultureInfo.InvariantCulture), "start"));
        }
        return new Chart(id, title, Width, height, bars, labels, []);
    }

    private static string DayLabel(string isoDay) =>
        isoDay.Length == 10 ? $"{isoDay[8..10]}/{isoDay[5..7]}" : isoDay;

    private static string F(double v) => Math.Round(v, 1).ToString("0.#", CultureInfo.InvariantCulture);
}
