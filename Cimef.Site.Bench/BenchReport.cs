using System.Text;
using System.Text.Json;

namespace Cimef.Site.Bench;

/// <summary>
/// Collects benchmark rows from every bench class into Cimef.Site.Bench/results/benchmark.json and renders the one
/// Markdown table (Cimef.Site.Bench/results/benchmark.md) that `./run.ps1 bench` prints. Rows keep their section order.
/// </summary>
public static class BenchReport
{
    public sealed record Row(string Section, string Metric, string Value, string Target, bool? Met);

    private static readonly object Gate = new();

    /// <summary>The repository root (the folder holding Cimef.sln), found walking up from the test binaries.</summary>
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cimef.sln"))) dir = dir.Parent;
            return dir?.FullName ?? AppContext.BaseDirectory;
        }
    }

    public static string ResultsDir
    {
        get
        {
            var path = Path.Combine(RepoRoot, "Cimef.Site.Bench", "results");
            Directory.CreateDirectory(path);
            return path;
        }
    }

    public static void Add(string section, string metric, string value, string target = "", bool? met = null)
    {
        lock (Gate)
        {
            var json = Path.Combine(ResultsDir, "benchmark.json");
            var rows = File.Exists(json) ? JsonSerializer.Deserialize<List<Row>>(File.ReadAllText(json)) ?? [] : [];
            rows.RemoveAll(r => r.Section == section && r.Metric == metric);
            rows.Add(new Row(section, metric, value, target, met));
            File.WriteAllText(json, JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
            File.WriteAllText(Path.Combine(ResultsDir, "benchmark.md"), Render(rows));
            Console.WriteLine($"[bench] {section} | {metric} | {value} | {target}");
        }
    }

    private static string Render(List<Row> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# CIMEF Portal — benchmark");
        sb.AppendLine();
        sb.AppendLine($"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}. Updated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `./run.ps1 bench`.");
        sb.AppendLine();
        sb.AppendLine("| Section | Metric | Measured | Target | Met |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var r in rows.GroupBy(r => r.Section).SelectMany(g => g))
            sb.AppendLine($"| {r.Section} | {r.Metric} | {r.Value} | {r.Target} | {(r.Met is null ? "" : r.Met.Value ? "yes" : "**no**")} |");
        return sb.ToString();
    }
}
