using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;

namespace Cimef.Site.Tests.Web;

/// <summary>
/// Counters are process-wide (every host in the test run adds to the same meter): this collection runs alone so the
/// deltas a test sees are its own.
/// </summary>
[CollectionDefinition(nameof(MetricsCollection), DisableParallelization = true)]
public sealed class MetricsCollection;

/// <summary>/metrics: served only to the configured addresses or with the Bearer token, and its counters move with requests.</summary>
[Collection(nameof(MetricsCollection))]
public partial class MetricsTests : IClassFixture<CimefFactory>
{
    private const string Token = "scrape-token-0123456789abcdef";
    private readonly CimefFactory _factory;

    public MetricsTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Metrics:Token"] = Token;
        factory.Settings["Metrics:AllowedAddresses:0"] = "10.20.0.0/16";
        factory.Settings["Metrics:AllowedAddresses:1"] = "192.0.2.7";
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.ConfigureTestServices = TestRemoteIp.AddTo;
    }

    private async Task<string> ScrapeAsync()
    {
        var client = _factory.NewClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The sum of every series of <paramref name="name"/> whose labels include all of <paramref name="labels"/>.</summary>
    private static double Value(string text, string name, params string[] labels) => text.Split('\n')
        .Select(l => SampleLine().Match(l))
        .Where(m => m.Success && m.Groups["name"].Value == name && labels.All(x => m.Groups["labels"].Value.Contains(x, StringComparison.Ordinal)))
        .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)")]
    private static partial Regex SampleLine();

    [Fact]
    public async Task Scrape_needs_the_token_or_an_allowed_address()
    {
        var anonymous = _factory.NewClient();
        var refused = await anonymous.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.DoesNotContain("cimef_", await refused.Content.ReadAsStringAsync());

        var wrong = _factory.NewClient();
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/metrics")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await TestRemoteIp.ClientFrom(_factory, "10.21.0.1").GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TestRemoteIp.ClientFrom(_factory, "192.0.2.8").GetAsync("/metrics")).StatusCode);

        foreach (var allowed in new[] { "10.20.3.4", "192.0.2.7", "::ffff:10.20.0.9" })
        {
            var fromAllowed = await TestRemoteIp.ClientFrom(_factory, allowed).GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, fromAllowed.StatusCode);
            Assert.Contains("cimef_cluster_leader", await fromAllowed.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Logins_downloads_and_request_durations_move_with_requests()
    {
        var p = await _factory.Data.PatientAsync();
        var bytes = Cimef.Site.Cli.DemoSeed.MinimalPdf("Compte rendu métriques");
        var reportId = await _factory.Data.ReportAsync(p, content: bytes);
        var before = await ScrapeAsync();

        var failed = _factory.NewClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await failed.LoginJsonAsync(p.Key, "wrong-password")).StatusCode);
        var patient = await _factory.PatientClientAsync(p);
        var download = await patient.GetAsync($"/patient/reports/{reportId}");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync());
        var staff = await _factory.StaffClientAsync(Roles.Secretary);
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync("/Patients")).StatusCode);

        var after = await ScrapeAsync();
        double Delta(string name, params string[] labels) => Value(after, name, labels) - Value(before, name, labels);
        Assert.Equal(1, Delta("cimef_portal_logins_total", "outcome=\"success\""));
        Assert.Equal(1, Delta("cimef_portal_logins_total", "outcome=\"failure\""));
        Assert.Equal(1, Delta("cimef_portal_downloads_total", "via=\"patient\""));
        Assert.Equal(bytes.Length, Delta("cimef_portal_downloaded_bytes_total", "via=\"patient\""));
        Assert.True(Delta("http_server_request_duration_seconds_count", "cimef_endpoint_group=\"patient_api\"") >= 1);
        Assert.True(Delta("http_server_request_duration_seconds_count", "cimef_endpoint_group=\"patient_pages\"") >= 2);
        Assert.True(Delta("http_server_request_duration_seconds_count", "cimef_endpoint_group=\"staff\"") >= 1);
        Assert.Equal(1, Value(after, "cimef_cluster_leader"));

        // Nothing in a label identifies a patient.
        foreach (var secret in new[] { p.Key, p.Key.Replace("-", ""), p.Password, p.FullName, p.Phone, $"/patient/reports/{reportId}" })
            Assert.DoesNotContain(secret, after);
    }

    [Fact]
    public async Task Outbox_alerts_and_jobs_are_read_from_the_database_at_scrape_time()
    {
        var p = await _factory.Data.PatientAsync(); // its access queues credential messages in the outbox
        _factory.Time.Advance(TimeSpan.FromMinutes(10));
        await _factory.WithDbAsync(async db =>
        {
            db.Alerts.Add(new Alert { At = _factory.Time.GetUtcNow().UtcDateTime, Level = AlertLevel.Warning, Kind = "metrics_test_rule", Subject = "s", DedupKey = "metrics-test" });
            db.JobStates.Add(new JobState { Name = "metrics-test-job", LastRunAt = new DateTime(2026, 11, 25, 8, 0, 0, DateTimeKind.Utc) });
            return await db.SaveChangesAsync();
        });

        var text = await ScrapeAsync();
        Assert.True(Value(text, "cimef_outbox_pending") >= 1);
        Assert.True(Value(text, "cimef_outbox_oldest_age_seconds") >= 600);
        Assert.Equal(1, Value(text, "cimef_alerts_open", "rule=\"metrics_test_rule\""));
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(),
            Value(text, "cimef_job_last_run_seconds", "job=\"metrics-test-job\""));
        Assert.DoesNotContain(p.FullName, text);
    }

    [Fact]
    public async Task Without_a_token_or_addresses_metrics_are_not_served()
    {
        using var plain = new CimefFactory();
        var client = plain.NewClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/metrics")).StatusCode);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/metrics")).StatusCode);
    }
}
