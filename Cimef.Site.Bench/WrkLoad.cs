using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Cimef.Site.Bench;

/// <summary>
/// The side-by-side bench's load generator: Debian's wrk (2 threads, 16 connections) driven by side-by-side.lua,
/// the same script for the site and the peer; the .NET <see cref="LoadGenerator"/> (16 connections) when wrk is missing.
/// Counts every response outside 2xx (wrk itself counts only ≥ 400).
/// </summary>
public static class WrkLoad
{
    public const int Connections = 16;
    public const int Threads = 2;

    public sealed record Result(long Requests, double Seconds, double P99Ms, long Non2xx, long SocketErrors)
    {
        public double RequestsPerSecond => Requests / Seconds;
    }

    /// <summary>Path of wrk on PATH, or null (then the .NET generator runs).</summary>
    public static string? WrkPath { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, "wrk")).FirstOrDefault(File.Exists);

    public static string Generator => WrkPath is null
        ? $".NET load generator (wrk not installed), {Connections} connections"
        : $"wrk, {Threads} threads, {Connections} connections";

    /// <summary>POST /api/patients/portal/login/ with valid credentials, rotating over them.</summary>
    public static Task<Result> LoginAsync(string baseUrl, IEnumerable<(string Key, string Password)> credentials, TimeSpan duration) =>
        RunAsync(baseUrl, "login", credentials.Select(c => $"{c.Key} {c.Password}").ToList(), duration);

    /// <summary>GET each path with its Cookie header (null: none), rotating over them.</summary>
    public static Task<Result> GetAsync(string baseUrl, IEnumerable<(string Path, string? Cookie)> requests, TimeSpan duration) =>
        RunAsync(baseUrl, "get", requests.Select(r => $"{r.Path} {r.Cookie ?? "-"}").ToList(), duration);

    private static Task<Result> RunAsync(string baseUrl, string mode, List<string> lines, TimeSpan duration) =>
        WrkPath is null ? FallbackAsync(baseUrl, mode, lines, duration) : WrkAsync(baseUrl, mode, lines, duration);

    private static async Task<Result> WrkAsync(string baseUrl, string mode, List<string> lines, TimeSpan duration)
    {
        var data = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(data, lines);
            var psi = new ProcessStartInfo(WrkPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { $"-t{Threads}", $"-c{Connections}", $"-d{(int)duration.TotalSeconds}s", "--timeout", "10s",
                         "-s", Path.Combine(AppContext.BaseDirectory, "side-by-side.lua"), baseUrl })
                psi.ArgumentList.Add(a);
            psi.Environment["BENCH_MODE"] = mode;
            psi.Environment["BENCH_DATA"] = data;
            using var wrk = Process.Start(psi)!;
            var stdout = wrk.StandardOutput.ReadToEndAsync();
            var stderr = wrk.StandardError.ReadToEndAsync();
            using var backstop = new CancellationTokenSource(duration + TimeSpan.FromSeconds(60));
            try { await wrk.WaitForExitAsync(backstop.Token); }
            catch (OperationCanceledException)
            {
                wrk.Kill(entireProcessTree: true);
                throw new TimeoutException($"wrk did not finish within {duration.TotalSeconds + 60} s.");
            }
            var output = await stdout;
            var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
                       ?? throw new InvalidOperationException($"wrk exited with {wrk.ExitCode} and no RESULT line:\n{output}\n{await stderr}");
            var v = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(kv => kv.Split('='))
                .ToDictionary(kv => kv[0], kv => long.Parse(kv[1], CultureInfo.InvariantCulture));
            return new Result(v["requests"], v["duration_us"] / 1e6, v["p99_us"] / 1e3, v["non2xx"], v["socket_errors"]);
        }
        finally
        {
            File.Delete(data);
        }
    }

    private static async Task<Result> FallbackAsync(string baseUrl, string mode, List<string> lines, TimeSpan duration)
    {
        var items = lines.Select(l => l.Split(' ')).ToArray();
        var next = -1;
        var r = await LoadGenerator.RunAsync(
            () => new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(10) },
            async client =>
            {
                var it = items[(int)((uint)Interlocked.Increment(ref next) % items.Length)];
                using var request = mode == "login"
                    ? new HttpRequestMessage(HttpMethod.Post, "/api/patients/portal/login/")
                    {
                        Content = new StringContent($"{{\"access_key\":\"{it[0]}\",\"password\":\"{it[1]}\"}}", Encoding.UTF8, "application/json"),
                    }
                    : new HttpRequestMessage(HttpMethod.Get, it[0]);
                if (mode != "login" && it[1] != "-") request.Headers.Add("Cookie", it[1]);
                using var response = await client.SendAsync(request);
                await response.Content.CopyToAsync(Stream.Null);
                return (int)response.StatusCode;
            }, Connections, duration);
        var non2xx = r.StatusCounts.Where(kv => kv.Key is < 200 or > 299 && kv.Key != -1).Sum(kv => kv.Value);
        return new Result(r.Requests, r.Seconds, r.P99Ms, non2xx, r.Errors);
    }
}
