using System.Diagnostics;

namespace Cimef.Site.Bench;

/// <summary>
/// .NET fallback load generator (wrk is used by the bench when present): N connections issuing requests
/// for a fixed duration, with a hard cap on the request count. Reports req/s and latency percentiles.
/// </summary>
public static class LoadGenerator
{
    public sealed record Result(long Requests, long Errors, double Seconds, double P50Ms, double P99Ms, IReadOnlyDictionary<int, long> StatusCounts)
    {
        public double RequestsPerSecond => Requests / Seconds;
    }

    public static async Task<Result> RunAsync(Func<HttpClient> newClient, Func<HttpClient, Task<int>> request, int connections, TimeSpan duration, long maxRequests = 2_000_000)
    {
        var latencies = new List<double>[connections];
        var statuses = new Dictionary<int, long>[connections];
        long issued = 0, errors = 0;
        var sw = Stopwatch.StartNew();
        var stopAt = duration;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async i =>
        {
            latencies[i] = new List<double>(4096);
            statuses[i] = new Dictionary<int, long>();
            using var client = newClient();
            while (sw.Elapsed < stopAt && Interlocked.Increment(ref issued) <= maxRequests)
            {
                var t0 = Stopwatch.GetTimestamp();
                int status;
                try { status = await request(client); }
                catch (Exception) { status = -1; Interlocked.Increment(ref errors); }
                latencies[i].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                statuses[i][status] = statuses[i].GetValueOrDefault(status) + 1;
            }
        }));
        var seconds = sw.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).OrderBy(x => x).ToArray();
        var merged = statuses.SelectMany(d => d).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
        return new Result(all.Length, errors, seconds, Percentile(all, 0.50), Percentile(all, 0.99), merged);
    }

    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    public static double Median(IEnumerable<double> values)
    {
        var s = values.OrderBy(x => x).ToArray();
        return s.Length == 0 ? 0 : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
