using System.Net;
using System.Text;
using Cimef.Site.Tests.Browser;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;

namespace Cimef.Site.Bench;

/// <summary>
/// Patient portal: page bytes as a phone browser transfers them, dashboard throughput against a static
/// file of the same size served by the same process in the same run, login throughput, and other pages' p99
/// while a login flood runs.
/// </summary>
[Trait("Category", "Bench")]
public class PortalBench : IClassFixture<KestrelFactory>, IClassFixture<ChromiumFixture>
{
    private const string Section = "Patient portal";
    private readonly KestrelFactory _factory;
    private readonly ChromiumFixture _chromium;

    public PortalBench(KestrelFactory factory, ChromiumFixture chromium)
    {
        _factory = factory;
        _chromium = chromium;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    private HttpClient NewClient(string address) => new(new SocketsHttpHandler
    {
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        AllowAutoRedirect = false,
    }) { BaseAddress = new Uri(address) };

    /// <summary>A plain-http client cannot send back a Secure cookie, so the session cookie is replayed by hand.</summary>
    private async Task<HttpClient> PatientClientAsync(TestPatient p)
    {
        var client = NewClient(_factory.Address);
        var login = await client.LoginJsonAsync(p.Key, p.Password);
        if (login.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"login {(int)login.StatusCode}");
        client.DefaultRequestHeaders.Add("Cookie", $"{Cimef.Site.Portal.PatientSessions.CookieName}={PortalData.SessionCookie(login)}");
        return client;
    }

    [ChromiumFact]
    public async Task Page_bytes_first_and_repeat_visits()
    {
        _ = _factory.Address;
        var p = await _factory.Data.PatientAsync();
        await _factory.Data.ReportAsync(p, "IRM du genou");
        await _factory.Data.ReportAsync(p, "Radiographie du thorax");
        var b = await PortalBudget.MeasureAsync(_chromium, _factory.Address, p);
        BenchReport.Add(Section, "Login page, first visit (bytes transferred, Chromium)", b.LoginFirst.ToString("N0"), "≤ 14 336", b.LoginFirst <= 14 * 1024);
        BenchReport.Add(Section, "Login page, repeat visit", b.LoginRepeat.ToString("N0"), "≤ 8 192", b.LoginRepeat <= 8 * 1024);
        BenchReport.Add(Section, "Dashboard, first visit incl. htmx", b.DashboardFirst.ToString("N0"), "≤ 40 960", b.DashboardFirst <= 40 * 1024);
        BenchReport.Add(Section, "Dashboard, repeat visit", b.DashboardRepeat.ToString("N0"), "≤ 8 192", b.DashboardRepeat <= 8 * 1024);
        BenchReport.Add(Section, "Access history, first visit", b.HistoryFirst.ToString("N0"), "≤ 14 336", b.HistoryFirst <= 14 * 1024);
    }

    [Fact]
    public async Task Dashboard_throughput_against_a_static_file_of_the_same_size()
    {
        _ = _factory.Address;
        var patients = new List<TestPatient>();
        for (var i = 0; i < 16; i++)
        {
            var p = await _factory.Data.PatientAsync();
            await _factory.Data.ReportAsync(p, "IRM du genou");
            await _factory.Data.ReportAsync(p, "Radiographie du thorax");
            patients.Add(p);
        }
        var clients = new Queue<HttpClient>();
        foreach (var p in patients) clients.Enqueue(await PatientClientAsync(p));
        foreach (var p in patients) clients.Enqueue(await PatientClientAsync(p));
        var html = await clients.Peek().GetByteArrayAsync("/patient/dashboard");

        // The static twin lives in wwwroot/lib (git-ignored, restored from npm) only for this run.
        var webRoot = Cimef.Site.Web.StaticAssets.FindWebRoot();
        var twinDir = Path.Combine(webRoot, "lib", "bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(twinDir);
        await File.WriteAllBytesAsync(Path.Combine(twinDir, "dashboard.html"), html);
        var twinUrl = $"/lib/{Path.GetFileName(twinDir)}/dashboard.html";
        try
        {
            var duration = TimeSpan.FromSeconds(5);
            var staticResult = await LoadGenerator.RunAsync(() => NewClient(_factory.Address),
                async c => (int)(await c.GetAsync(twinUrl)).StatusCode, connections: 16, duration: duration);
            var dashboard = await LoadGenerator.RunAsync(() => { lock (clients) return clients.Dequeue(); },
                async c => (int)(await c.GetAsync("/patient/dashboard")).StatusCode, connections: 16, duration: duration);
            var profile = await LoadGenerator.RunAsync(() => { lock (clients) return clients.Dequeue(); },
                async c => (int)(await c.GetAsync("/api/patients/portal/profile/")).StatusCode, connections: 16, duration: duration);
            BenchReport.Add(Section, "Profile API req/s, 16 connections (session check + one read, no write)",
                $"{profile.RequestsPerSecond:N0} (p99 {profile.P99Ms:N1} ms)");
            var health = await LoadGenerator.RunAsync(() => NewClient(_factory.Address),
                async c => (int)(await c.GetAsync("/healthz")).StatusCode, connections: 16, duration: duration);
            BenchReport.Add(Section, "For comparison: /healthz req/s in the same run (one EF query, no session)",
                $"{health.RequestsPerSecond:N0} (p99 {health.P99Ms:N1} ms)");
            var ratio = dashboard.RequestsPerSecond / staticResult.RequestsPerSecond;
            BenchReport.Add(Section, $"Static file of the dashboard's size ({html.Length:N0} B) req/s, 16 connections",
                $"{staticResult.RequestsPerSecond:N0} (p99 {staticResult.P99Ms:N1} ms)");
            BenchReport.Add(Section, "Dashboard req/s, 16 connections (each view writes its AccessEvent)",
                $"{dashboard.RequestsPerSecond:N0} (p99 {dashboard.P99Ms:N1} ms)");
            BenchReport.Add(Section, "Dashboard / static throughput", $"{ratio:P0}", "≥ 20 %", ratio >= 0.20);
            Assert.Equal(0, dashboard.Errors);
            Assert.Equal(dashboard.Requests, dashboard.StatusCounts.GetValueOrDefault(200));
        }
        finally
        {
            Directory.Delete(twinDir, recursive: true);
        }
    }

    [Fact]
    public async Task Login_throughput()
    {
        _ = _factory.Address;
        var patients = new Queue<TestPatient>();
        for (var i = 0; i < 16; i++) patients.Enqueue(await _factory.Data.PatientAsync());
        var result = await LoadGenerator.RunAsync(() => NewClient(_factory.Address), async c =>
        {
            TestPatient p;
            lock (patients) { p = patients.Dequeue(); patients.Enqueue(p); }
            return (int)(await c.LoginJsonAsync(p.Key, p.Password)).StatusCode;
        }, connections: 16, duration: TimeSpan.FromSeconds(5));
        BenchReport.Add(Section, "Successful logins/s, 16 connections (one SQLite write transaction each: reservation, session, count and event)",
            $"{result.StatusCounts.GetValueOrDefault(200) / result.Seconds:N0} (p99 {result.P99Ms:N1} ms)");
        Assert.Equal(0, result.Errors);
    }

    [Fact]
    public async Task Other_pages_p99_while_a_login_flood_runs()
    {
        // Production limits: a separate site with the default rate limiter and throttle.
        using var site = new KestrelFactory();
        var address = site.Address;
        async Task<LoadGenerator.Result> Probe() => await LoadGenerator.RunAsync(() => NewClient(address),
            async c => (int)(await c.GetAsync("/patient")).StatusCode, connections: 4, duration: TimeSpan.FromSeconds(4));

        var quiet = await Probe();
        using var stop = new CancellationTokenSource();
        var flood = LoadGenerator.RunAsync(() => NewClient(address), async c => (int)(await c.PostAsync("/api/patients/portal/login/",
            new StringContent($"{{\"access_key\":\"{Random.Shared.Next():D12}\",\"password\":\"zzzz2222\"}}", Encoding.UTF8, "application/json"))).StatusCode,
            connections: 16, duration: TimeSpan.FromSeconds(5));
        var loaded = await Probe();
        var floodResult = await flood;

        BenchReport.Add(Section, "Login page p99, quiet (4 connections)", $"{quiet.P99Ms:N1} ms ({quiet.RequestsPerSecond:N0} req/s)");
        BenchReport.Add(Section, "Login page p99 during a 16-connection login flood", $"{loaded.P99Ms:N1} ms ({loaded.RequestsPerSecond:N0} req/s)");
        BenchReport.Add(Section, "Login flood answered (req/s; share refused with 429)",
            $"{floodResult.RequestsPerSecond:N0} ({floodResult.StatusCounts.GetValueOrDefault(429) / (double)Math.Max(1, floodResult.Requests):P0} 429)");
        Assert.Equal(0, loaded.Errors);
        Assert.Equal(0, floodResult.StatusCounts.GetValueOrDefault(500));
        Assert.Equal(0, floodResult.StatusCounts.GetValueOrDefault(503));
    }
}
