using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Cimef.Site.Tests.Bench;

/// <summary>
/// `./run.ps1 bench load`: 200 simulated patients (login → dashboard → download) for 60 s against the published
/// site on loopback, then a 10-minute soak watching the server's working set. Bounded in requests and time.
/// </summary>
[Trait("Category", "Bench")]
[Trait("Kind", "Load")]
public class LoadBench : IDisposable
{
    private const int Patients = 200;
    private readonly string _data = Path.Combine(Path.GetTempPath(), "cimef-load", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_data, true); } catch (IOException) { }
    }

    [Fact]
    public async Task Two_hundred_patients_for_60_seconds_then_a_10_minute_soak()
    {
        using var seeder = BenchPatients.Seeder(_data);
        var credentials = await BenchPatients.CreateAsync(seeder, Patients, BenchPatients.Pdf(100 * 1024));
        // The per-IP login flood cap is meant for the internet; every simulated patient comes from 127.0.0.1 here.
        await using var site = await SiteServer.StartPublishedAsync(_data, new Dictionary<string, string> { ["Portal__LoginRequestsPerMinutePerIp"] = "100000" });

        var load = await RunAsync(site, credentials, TimeSpan.FromSeconds(60), maxIterations: 200_000);
        var ws = site.WorkingSet() / 1048576.0;
        BenchReport.Add("Load (published site)", "200 patients × 60 s: requests, errors (non-429)", $"{load.Requests:N0} requests ({load.Requests / load.Seconds:N0}/s), {load.Errors} errors, {load.Throttled} × 429");
        BenchReport.Add("Load (published site)", "200 patients: p50 / p99 latency", $"{load.P50:N1} ms / {load.P99:N1} ms");
        BenchReport.Add("Load (published site)", "Server working set after load", $"{ws:N0} MB ({site.MemoryBreakdown()})", "≤ 200 MB", ws <= 200);

        var samples = new List<double>();
        var soak = Stopwatch.StartNew();
        var soakTask = RunAsync(site, credentials.Take(50).ToList(), TimeSpan.FromMinutes(10), maxIterations: 2_000_000);
        while (!soakTask.IsCompleted)
        {
            await Task.WhenAny(soakTask, Task.Delay(TimeSpan.FromSeconds(30))); // sampling a real process over real minutes
            samples.Add(site.WorkingSet() / 1048576.0);
        }
        var soakResult = await soakTask;
        var baseline = samples.Skip(2).FirstOrDefault(samples.FirstOrDefault());
        var growth = baseline == 0 ? 0 : (samples.Last() - baseline) / baseline * 100;
        BenchReport.Add("Load (published site)", "10-min soak (50 patients): working set start → end", $"{baseline:N0} MB → {samples.Last():N0} MB ({growth:+0.0;-0.0}%), {soakResult.Requests:N0} requests, {soakResult.Errors} errors", "growth ≤ 10%", growth <= 10);

        Assert.Equal(0, load.Errors);
        Assert.Equal(0, soakResult.Errors);
    }

    private sealed record LoadResult(long Requests, long Errors, long Throttled, double Seconds, double P50, double P99);

    private static async Task<LoadResult> RunAsync(SiteServer site, IReadOnlyList<BenchPatients.Credentials> patients, TimeSpan duration, long maxIterations)
    {
        var latencies = new ConcurrentBag<double[]>();
        long errors = 0, throttled = 0, iterations = 0;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(patients.Select(async p =>
        {
            var mine = new List<double>();
            // The session cookie is Secure (__Host-): a phone keeps it over HTTPS; over loopback HTTP the client
            // would drop it, so the simulated patient carries it by hand.
            using var handler = new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false };
            using var client = new HttpClient(handler) { BaseAddress = new Uri(site.Address), Timeout = TimeSpan.FromSeconds(30) };
            while (sw.Elapsed < duration && Interlocked.Increment(ref iterations) <= maxIterations)
            {
                client.DefaultRequestHeaders.Remove("Cookie");
                var login = await Timed(mine, async () =>
                {
                    var r = await client.PostAsJsonAsync("/api/patients/portal/login/", new { access_key = p.Key, password = p.Password });
                    if (r.Headers.TryGetValues("Set-Cookie", out var cookies))
                        client.DefaultRequestHeaders.Add("Cookie", cookies.Select(c => c.Split(';')[0]));
                    return r;
                });
                if (login == 429) { Interlocked.Increment(ref throttled); continue; }
                var dashboard = await Timed(mine, () => client.GetAsync("/patient/dashboard"));
                var download = await Timed(mine, () => client.GetAsync($"/api/reports/download/{p.ReportId}/"));
                await Timed(mine, () => client.PostAsJsonAsync("/api/patients/portal/logout/", new { }));
                foreach (var s in new[] { login, dashboard, download })
                    if (s != 200) Interlocked.Increment(ref errors);
            }
            latencies.Add(mine.ToArray());
        }));
        var all = latencies.SelectMany(x => x).OrderBy(x => x).ToArray();
        return new LoadResult(all.Length, errors, throttled, sw.Elapsed.TotalSeconds, LoadGenerator.Percentile(all, 0.5), LoadGenerator.Percentile(all, 0.99));
    }

    private static async Task<int> Timed(List<double> into, Func<Task<HttpResponseMessage>> send)
    {
        var t0 = Stopwatch.GetTimestamp();
        try
        {
            using var r = await send();
            await r.Content.CopyToAsync(Stream.Null);
            return (int)r.StatusCode;
        }
        catch (Exception) { return -1; }
        finally { into.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds); }
    }
}
