using System.Net;
using System.Text;
using System.Text.Json;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Cimef.Site.Portal;

namespace Cimef.Site.Bench;

/// <summary>
/// `./run.ps1 bench peer`: the published site and the seed's Django design side by side on loopback, with the
/// same data shape (1,000 patients, one 50 KB PDF report each) and the same load generator, alternating site/peer/site/peer
/// per endpoint: successful logins, report list, 50 KB download; then the site's dashboard against a static file of the
/// same size served by the same process; resident memory of both after the run. Any response outside 2xx (or a socket
/// error) makes the run invalid and fails the test. CIMEF_BENCH_SECONDS shortens each run (default 10 s).
/// </summary>
[Trait("Category", "Bench")]
[Trait("Kind", "Peer")]
public class PeerBench : IDisposable
{
    private const string Section = "Side by side with the seed's design";
    private const int Patients = 1000;
    private const int Sessions = 64; // open sessions the list and download runs rotate over (as the peer's bench.sh)
    private const int ReportKb = 50;
    private readonly string _data = Path.Combine(Path.GetTempPath(), "cimef-peer-bench", Guid.NewGuid().ToString("N"));

    private sealed record Side(string Name, string Address, string CookieName, IReadOnlyList<BenchPatients.Credentials> Credentials);

    private sealed record Session(string Cookie, int ReportId);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_data, true); } catch (IOException) { }
    }

    [Fact]
    public async Task Site_against_the_Django_peer_A_B_A_B()
    {
        var duration = TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("CIMEF_BENCH_SECONDS"), out var s) && s > 0 ? s : 10);
        var machine = $"{Environment.ProcessorCount} cores (nproc), load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at start, "
                      + $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; site on {(TestDatabase.IsPostgres ? "PostgreSQL" : "SQLite")}; {WrkLoad.Generator}, {duration.TotalSeconds:0} s per run, site/peer/site/peer";

        await using var peer = await DjangoPeer.StartAsync(Patients, ReportKb);
        using var seeder = BenchPatients.Seeder(_data);
        var credentials = await BenchPatients.CreateAsync(seeder, Patients, BenchPatients.Pdf(ReportKb * 1024));
        await using var site = await SiteServer.StartPublishedAsync(_data, new Dictionary<string, string>
        {
            // Every request comes from 127.0.0.1: the per-address login flood cap is raised to its maximum for this run only.
            ["Portal__LoginRequestsPerMinutePerIp"] = "100000",
            // The 1,000 seeded credential notifications would otherwise be sent (to no SMTP/SMS server) during the runs;
            // the peer has no notifications.
            ["Notifications__WorkerEnabled"] = "false",
        });
        var a = new Side("site", site.Address, PatientSessions.CookieName, credentials);
        var b = new Side("peer", peer.Address, "sessionid", peer.Credentials);
        var sessions = new Dictionary<Side, List<Session>> { [a] = await OpenSessionsAsync(a), [b] = await OpenSessionsAsync(b) };

        async Task<(WrkLoad.Result Site, WrkLoad.Result Peer)> AbAbAsync(string what, Func<Side, Task<WrkLoad.Result>> run)
        {
            var runs = new Dictionary<Side, List<WrkLoad.Result>> { [a] = [], [b] = [] };
            for (var round = 0; round < 2; round++)
                foreach (var side in new[] { a, b })
                    runs[side].Add(Valid(await run(side), $"{what}, {side.Name}"));
            return (Mean(runs[a]), Mean(runs[b]));
        }

        var login = await AbAbAsync("login", side => WrkLoad.LoginAsync(side.Address, side.Credentials.Select(c => (c.Key, c.Password)), duration));
        var list = await AbAbAsync("report list", side => WrkLoad.GetAsync(side.Address,
            sessions[side].Select(x => ("/api/reports/patient/", (string?)x.Cookie)), duration));
        var download = await AbAbAsync("download", side => WrkLoad.GetAsync(side.Address,
            sessions[side].Select(x => ($"/api/reports/download/{x.ReportId}/", (string?)x.Cookie)), duration));

        // The dashboard against a static file of its size, both from the site, alternating (dashboard = A, static = B).
        using var http = Client(a.Address);
        var dashboardRequest = new HttpRequestMessage(HttpMethod.Get, "/patient/dashboard");
        dashboardRequest.Headers.Add("Cookie", sessions[a][0].Cookie);
        var html = await (await http.SendAsync(dashboardRequest)).EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync();
        var twinDir = Path.Combine(Path.GetDirectoryName(SiteServer.PublishedExecutable)!, "wwwroot", "bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(twinDir);
        WrkLoad.Result dashboard, staticFile;
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(twinDir, "dashboard.html"), html);
            var twin = $"/{Path.GetFileName(twinDir)}/dashboard.html";
            (dashboard, staticFile) = await AbAbAsync("dashboard / static", side => side == a
                ? WrkLoad.GetAsync(a.Address, sessions[a].Select(x => ("/patient/dashboard", (string?)x.Cookie)), duration)
                : WrkLoad.GetAsync(a.Address, [(twin, null)], duration));
        }
        finally
        {
            Directory.Delete(twinDir, recursive: true);
        }

        var siteMb = site.WorkingSet() / 1048576.0;
        var (peerBytes, peerProcesses) = peer.Resident();
        var peerMb = peerBytes / 1048576.0;

        BenchReport.Add(Section, "Machine and method", machine);
        var loginRatio = Ratio(Section, "Successful logins req/s, site vs peer", login, 5);
        var listRatio = Ratio(Section, "Report list req/s, site vs peer", list, 5);
        var downloadRatio = Ratio(Section, "50 KB download req/s, site vs peer", download, 3);
        var dashboardShare = dashboard.RequestsPerSecond / staticFile.RequestsPerSecond;
        // The size goes in the value, not the label: the label is the row's key, so the next run replaces the row.
        BenchReport.Add(Section, "Dashboard vs a static file of its size, both from the site",
            $"{html.Length:N0} B: {dashboard.RequestsPerSecond:N0} (p99 {dashboard.P99Ms:N1} ms) vs {staticFile.RequestsPerSecond:N0} (p99 {staticFile.P99Ms:N1} ms): {dashboardShare:P0}",
            "≥ 25 %", dashboardShare >= 0.25);
        BenchReport.Add(Section, "Resident memory after the run: site", $"{siteMb:N0} MB ({site.MemoryBreakdown()})", "≤ 200 MB", siteMb <= 200);
        BenchReport.Add(Section, $"Resident memory after the run: peer (gunicorn, {peerProcesses} processes)", $"{peerMb:N0} MB");
        Console.WriteLine($"[bench] site/peer: login {loginRatio:N1}×, list {listRatio:N1}×, download {downloadRatio:N1}×; "
                          + $"dashboard/static {dashboardShare:P0}; RSS site {siteMb:N0} MB, peer {peerMb:N0} MB");

        Assert.True(peerProcesses >= 2, $"the peer's gunicorn should still run (master + workers), found {peerProcesses} processes");
    }

    /// <summary>Writes the row "A (p99) vs B (p99): N×" against a target ratio; returns the ratio.</summary>
    private static double Ratio(string section, string metric, (WrkLoad.Result Site, WrkLoad.Result Peer) r, double target)
    {
        var ratio = r.Site.RequestsPerSecond / r.Peer.RequestsPerSecond;
        BenchReport.Add(section, metric,
            $"{r.Site.RequestsPerSecond:N0} (p99 {r.Site.P99Ms:N1} ms) vs {r.Peer.RequestsPerSecond:N0} (p99 {r.Peer.P99Ms:N1} ms): {ratio:N1}×",
            $"≥ {target}×", ratio >= target);
        return ratio;
    }

    private static WrkLoad.Result Valid(WrkLoad.Result r, string run)
    {
        if (r.Requests == 0 || r.Non2xx > 0 || r.SocketErrors > 0)
            Assert.Fail($"Invalid run ({run}): {r.Requests} requests, {r.Non2xx} responses outside 2xx, {r.SocketErrors} socket errors.");
        return r;
    }

    /// <summary>Requests per second averaged over the side's runs; p99 is the worse of them.</summary>
    private static WrkLoad.Result Mean(List<WrkLoad.Result> runs) => new(
        runs.Sum(r => r.Requests), runs.Sum(r => r.Seconds), runs.Max(r => r.P99Ms), runs.Sum(r => r.Non2xx), runs.Sum(r => r.SocketErrors));

    /// <summary>A JSON body with a Content-Length, as wrk sends it (Django under gunicorn reads no chunked request body).</summary>
    private static StringContent LoginBody(string key, string password) =>
        new(JsonSerializer.Serialize(new { access_key = key, password }), Encoding.UTF8, "application/json");

    private static HttpClient Client(string address) =>
        new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>
    /// Logs in the first patients with the same JSON call the bench sends and keeps their session cookies; checks on the
    /// way that both servers answer the same contract: a wrong password is 401, the list holds the patient's report,
    /// the download is the 50 KB PDF.
    /// </summary>
    private static async Task<List<Session>> OpenSessionsAsync(Side side)
    {
        using var http = Client(side.Address);
        var first = side.Credentials[0];
        var wrong = await http.PostAsync("/api/patients/portal/login/", LoginBody(first.Key, "wrong000"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        var sessions = new List<Session>();
        foreach (var c in side.Credentials.Take(Sessions))
        {
            var login = await http.PostAsync("/api/patients/portal/login/", LoginBody(c.Key, c.Password));
            Assert.True(login.StatusCode == HttpStatusCode.OK, $"{side.Name}: login answered {(int)login.StatusCode}");
            var cookie = login.Headers.GetValues("Set-Cookie").Select(v => v.Split(';')[0]).Single(v => v.StartsWith(side.CookieName + "=", StringComparison.Ordinal));
            sessions.Add(new Session(cookie, c.ReportId));
        }

        var s = sessions[0];
        using var listRequest = new HttpRequestMessage(HttpMethod.Get, "/api/reports/patient/");
        listRequest.Headers.Add("Cookie", s.Cookie);
        var list = await http.SendAsync(listRequest);
        Assert.True(list.StatusCode == HttpStatusCode.OK, $"{side.Name}: report list answered {(int)list.StatusCode}");
        var ids = JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement.EnumerateArray().Select(r => r.GetProperty("id").GetInt32());
        Assert.Equal([s.ReportId], ids);

        using var downloadRequest = new HttpRequestMessage(HttpMethod.Get, $"/api/reports/download/{s.ReportId}/");
        downloadRequest.Headers.Add("Cookie", s.Cookie);
        var pdf = await (await http.SendAsync(downloadRequest)).Content.ReadAsByteArrayAsync();
        Assert.Equal(ReportKb * 1024, pdf.Length);
        Assert.Equal("%PDF"u8.ToArray(), pdf[..4]);
        return sessions;
    }
}
