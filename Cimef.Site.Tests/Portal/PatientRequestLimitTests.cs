using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Portal;

/// <summary>
/// Patient reads are served at most Portal:PatientRequestsAtOnce at once, up to Portal:PatientRequestsWaiting
/// wait, and beyond that the answer is 429 with the French throttle message (JSON for the API, the 429 page for pages);
/// staff requests are never limited by it. Here: one at once, none waiting, and the one permit held by a dashboard view
/// that saves its language while the test holds the SQLite write gate.
/// </summary>
[Trait("Provider", "SqliteOnly")] // the held request waits on the SQLite write gate (PostgreSQL has none)
public class PatientRequestLimitTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public PatientRequestLimitTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:PatientRequestsAtOnce"] = "1";
        factory.Settings["Portal:PatientRequestsWaiting"] = "0";
    }

    [Fact]
    public async Task Beyond_the_reads_served_and_waiting_a_patient_read_gets_a_french_429_and_staff_pages_are_not_limited()
    {
        var holder = await _factory.PatientClientAsync(await _factory.Data.PatientAsync("Aminata Diop"));
        var other = await _factory.PatientClientAsync(await _factory.Data.PatientAsync("Moussa Fall"));
        var staff = await _factory.StaffClientAsync(Roles.Admin);
        var gate = _factory.Services.GetRequiredService<SqliteWriteGate>();

        Task<HttpResponseMessage>? held = null;
        HttpResponseMessage? refused = null;
        using (await gate.EnterAsync(CancellationToken.None))
        {
            var watch = Stopwatch.StartNew();
            while (refused is null && watch.Elapsed < TimeSpan.FromSeconds(30))
            {
                // The view saves its language (?lang=) under the write gate, so it keeps the one permit until the gate opens.
                if (held is null || held.IsCompleted) held = holder.GetAsync("/patient/dashboard?lang=wo");
                // Real time, not a fake clock: nothing here is timed; this gives the held request (another task, through
                // the whole pipeline) the moment it needs to take the permit and reach the gate before the probe asks.
                // A probe that comes first is simply retried (the loop), so the pause only saves wasted probes.
                await Task.Delay(200);
                if (held.IsCompleted) continue; // refused itself: a probe had the permit at that instant
                var probe = await other.GetAsync("/api/patients/portal/profile/");
                if (probe.StatusCode == HttpStatusCode.TooManyRequests) refused = probe;
            }
            Assert.NotNull(refused);
            using var json = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.StartsWith("Trop de tentatives", json.RootElement.GetProperty("error").GetString());
            Assert.True(json.RootElement.GetProperty("retry_after").GetInt32() > 0);
            Assert.NotNull(refused.Headers.RetryAfter);

            var page = await other.GetAsync("/patient/dashboard");
            Assert.Equal(HttpStatusCode.TooManyRequests, page.StatusCode);
            Assert.Contains("Trop de demandes en peu de temps", await page.Content.ReadAsStringAsync());

            Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync("/")).StatusCode); // staff: not limited
            Assert.False(held!.IsCompleted);
        }

        // The gate open, the held view ends normally and the permit is free again.
        Assert.Equal(HttpStatusCode.OK, (await held).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/api/patients/portal/profile/")).StatusCode);
    }
}
