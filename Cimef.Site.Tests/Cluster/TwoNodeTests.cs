using System.Net;
using System.Net.Http.Json;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Data;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Cluster;

/// <summary>
/// Two real site processes on one PostgreSQL database (<see cref="ClusterFixture"/>): notifications go out once,
/// jobs run on one node and move to the other when it dies. PostgreSQL pass only: a SQLite site is one process.
/// Every wait below polls the shared database or the SMTP server with a deadline: the work happens in other
/// processes, on their real clocks, and signals nothing to the test.
/// </summary>
public class TwoNodeTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        if (!TestDatabase.IsPostgres) return;
        // A test that killed a node leaves it dead; every test starts with both running.
        await cluster.StartAsync(0);
        await cluster.StartAsync(1);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private Task<T> DbAsync<T>(Func<CimefDb, Task<T>> work) => cluster.Seeder.WithDbAsync(work);

    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what}: not reached within {within.TotalSeconds} s (last: {value}).");
            await Task.Delay(200);
        }
    }

    /// <summary>Patients whose credential messages wait in the outbox, not yet due for the nodes (the seeder's clock is ahead).</summary>
    private async Task<List<int>> QueueAsync(int patients, string tag)
    {
        cluster.Seeder.Time.SetUtcNow(DateTimeOffset.UtcNow.AddYears(1));
        var ids = new List<int>();
        for (var i = 0; i < patients; i++) ids.Add((await cluster.Seeder.Data.PatientAsync(email: $"{tag}{i}@cluster.sn")).PatientId);
        return ids;
    }

    [PostgresFact]
    public async Task Two_hundred_messages_with_both_nodes_polling_are_each_delivered_exactly_once()
    {
        var patients = await QueueAsync(100, "once");
        var messages = await DbAsync(db => db.OutboxMessages.Where(m => m.PatientId != null && patients.Contains(m.PatientId.Value)).CountAsync());
        Assert.Equal(200, messages); // an e-mail and an SMS each

        var now = DateTime.UtcNow;
        await DbAsync(db => db.OutboxMessages.Where(m => m.PatientId != null && patients.Contains(m.PatientId.Value)).ExecuteUpdateAsync(s => s.SetProperty(m => m.NextAttemptAt, now)));
        var rows = await WaitForAsync(
            () => DbAsync(db => db.OutboxMessages.AsNoTracking().Where(m => m.PatientId != null && patients.Contains(m.PatientId.Value)).ToListAsync()),
            r => r.All(m => m.Status != OutboxStatus.Pending), TimeSpan.FromSeconds(120), "every message sent");

        Assert.All(rows, m => Assert.Equal((OutboxStatus.Sent, 1), (m.Status, m.Attempts)));
        Assert.Equal(ClusterFixture.NodeNames.Order(), rows.Select(m => m.ClaimedBy).Distinct().Order()); // both nodes took a share
        var emails = cluster.Smtp.Received.Where(m => m.To.Mailboxes.Single().Address.StartsWith("once", StringComparison.Ordinal)).ToList();
        Assert.Equal(100, emails.Count);
        Assert.Equal(100, emails.Select(m => m.MessageId).Distinct().Count());
        Assert.Equal(100, emails.Select(m => m.To.Mailboxes.Single().Address).Distinct().Count());
        var phones = await DbAsync(db => db.Patients.Where(p => patients.Contains(p.Id)).Select(p => p.Phone!).ToListAsync());
        var smsFiles = Enumerable.Range(0, 2).Select(i => Path.Combine(cluster.NodeDir(i), "sms-pickup")).Where(Directory.Exists)
            .SelectMany(Directory.GetFiles).Select(File.ReadAllText).ToList();
        Assert.All(phones, phone => Assert.Single(smsFiles, text => text.Contains(phone, StringComparison.Ordinal)));
    }

    [PostgresFact]
    public async Task Killing_the_leader_hands_retention_and_the_alert_monitor_to_the_other_node_within_a_minute()
    {
        var leaderName = await WaitForAsync(
            () => DbAsync(db => db.JobStates.Where(j => j.Name == AlertMonitor.JobName).Select(j => j.RunBy).FirstOrDefaultAsync()),
            n => n is not null, TimeSpan.FromSeconds(30), "a leader ran the alert monitor");
        var leader = Array.IndexOf(ClusterFixture.NodeNames, leaderName);
        var survivor = ClusterFixture.NodeNames[1 - leader];

        await cluster.KillAsync(leader); // SIGKILL: whatever pass it was in stops half-way
        var killedAt = DateTime.UtcNow;
        // An access event past retention, and retention due again: only the surviving node can prune it now.
        var expired = await DbAsync(async db =>
        {
            var e = new AccessEvent { At = DateTime.UtcNow.AddDays(-800), Kind = AccessEventKinds.Logout, Detail = "cluster" };
            db.AccessEvents.Add(e);
            await db.SaveChangesAsync();
            await db.JobStates.Where(j => j.Name == RetentionJob.JobName).ExecuteUpdateAsync(s => s.SetProperty(j => j.LastRunAt, DateTime.UtcNow.AddHours(-2)));
            return e.Id;
        });

        await WaitForAsync(() => DbAsync(db => db.AccessEvents.AnyAsync(e => e.Id == expired)), any => !any, TimeSpan.FromSeconds(60), "retention on the survivor");
        var states = await WaitForAsync(
            () => DbAsync(db => db.JobStates.AsNoTracking().ToDictionaryAsync(j => j.Name)),
            s => s[AlertMonitor.JobName].RunBy == survivor && s[AlertMonitor.JobName].LastRunAt > killedAt, TimeSpan.FromSeconds(60), "alert monitor on the survivor");
        Assert.Equal(survivor, states[RetentionJob.JobName].RunBy);
        Assert.True(DateTime.UtcNow - killedAt < TimeSpan.FromMinutes(1), $"took over in {(DateTime.UtcNow - killedAt).TotalSeconds:F0} s");
    }

    [PostgresFact]
    public async Task Messages_claimed_by_a_node_that_was_killed_are_sent_by_the_other_once_the_lease_runs_out()
    {
        var patients = await QueueAsync(3, "lease");
        await cluster.KillAsync(0);
        // As node-a left them: claimed (committed) a moment before it died, not yet sent.
        var leaseUntil = DateTime.UtcNow.AddSeconds(int.Parse(ClusterFixture.LeaseSeconds, System.Globalization.CultureInfo.InvariantCulture));
        await DbAsync(db => db.OutboxMessages.Where(m => m.PatientId != null && patients.Contains(m.PatientId.Value)).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.NextAttemptAt, DateTime.UtcNow).SetProperty(m => m.ClaimedBy, "node-a").SetProperty(m => m.LeaseUntil, leaseUntil)));

        var rows = await WaitForAsync(
            () => DbAsync(db => db.OutboxMessages.AsNoTracking().Where(m => m.PatientId != null && patients.Contains(m.PatientId.Value)).ToListAsync()),
            r => r.All(m => m.Status == OutboxStatus.Sent), TimeSpan.FromSeconds(60), "the lease's messages sent");

        Assert.All(rows, m =>
        {
            Assert.Equal(("node-b", 1), (m.ClaimedBy, m.Attempts));
            Assert.True(m.SentAt >= leaseUntil.AddSeconds(-1), $"sent at {m.SentAt:O}, lease until {leaseUntil:O}"); // not before the lease ran out (1 s clock rounding)
        });
        Assert.Equal(3, cluster.Smtp.Received.Count(m => m.To.Mailboxes.Single().Address.StartsWith("lease", StringComparison.Ordinal)));
    }

    private NodeClient On(int node, string from, List<string>? cookies = null) => new(cluster.Node(node).Address, from, cookies ?? []);

    [PostgresFact]
    public async Task A_patient_who_logs_in_on_one_node_is_served_by_the_other()
    {
        var p = await cluster.Seeder.Data.PatientAsync(status: InvoiceStatus.Paid);
        var report = await cluster.Seeder.Data.ReportAsync(p, content: Reports.ReportTestData.PdfBytes);
        // The login form on A (antiforgery token and cookie issued by A)...
        using var a = On(0, "198.51.100.21");
        using var page = await a.GetAsync("/patient");
        var token = System.Text.RegularExpressions.Regex.Match(await page.Content.ReadAsStringAsync(), "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"").Groups[1].Value;
        using var loggedIn = await a.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/patient")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Input.AccessKey"] = p.Key, ["Input.Password"] = p.Password, ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
            }),
        });
        Assert.Equal(HttpStatusCode.Redirect, loggedIn.StatusCode);

        // ... then the dashboard, the report list and the download on B, with the cookies A issued.
        using var b = On(1, "198.51.100.21", a.Cookies);
        using var served = await b.GetAsync("/patient/dashboard");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Contains("Compte rendu IRM du genou", await served.Content.ReadAsStringAsync());
        using var download = await b.GetAsync($"/api/reports/download/{report}/");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(Reports.ReportTestData.PdfBytes, await download.Content.ReadAsByteArrayAsync());
        // One session row, counted once, whichever node served it.
        Assert.Equal(1, await DbAsync(db => db.PatientAccesses.Where(x => x.Id == p.AccessId).Select(x => x.AccessCount).SingleAsync()));
    }

    [PostgresFact]
    public async Task A_report_uploaded_on_one_node_is_downloaded_from_the_other()
    {
        var p = await cluster.Seeder.Data.PatientAsync(status: InvoiceStatus.Paid);
        var token = await cluster.Seeder.Data.ApiTokenAsync(Roles.Doctor);
        var pdf = Reports.ReportTestData.PdfBytes.Concat(System.Text.Encoding.ASCII.GetBytes(Guid.NewGuid().ToString())).ToArray();
        using var b = On(1, "198.51.100.31");
        var upload = new HttpRequestMessage(HttpMethod.Post, "/api/reports/")
        {
            Content = new MultipartFormDataContent
            {
                { new StringContent(p.InvoiceNumber), "invoice_number" },
                { new StringContent("Échographie abdominale"), "title" },
                { new ByteArrayContent(pdf) { Headers = { ContentType = new("application/pdf") } }, "file", "cr.pdf" },
            },
        };
        upload.Headers.Authorization = new("Bearer", token);
        using var uploaded = await b.SendAsync(upload);
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        var id = (await uploaded.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetInt32();

        using var a = On(0, "198.51.100.31");
        Assert.Equal(HttpStatusCode.OK, (await a.LoginJsonAsync(p.Key, p.Password)).StatusCode);
        using var download = await a.GetAsync($"/api/reports/download/{id}/");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(pdf, await download.Content.ReadAsByteArrayAsync());
        // Neither node kept the file on its own disk: the bucket holds it.
        Assert.Empty(Directory.EnumerateFiles(cluster.NodeDir(0), "*.pdf", SearchOption.AllDirectories));
        Assert.Empty(Directory.EnumerateFiles(cluster.NodeDir(1), "*.pdf", SearchOption.AllDirectories));
    }

    [PostgresFact]
    public async Task Ten_concurrent_wrong_logins_on_one_key_spread_over_both_nodes_check_at_most_five()
    {
        var p = await cluster.Seeder.Data.PatientAsync(status: InvoiceStatus.Paid);
        var attempts = Enumerable.Range(0, 10).Select(async i =>
        {
            using var client = On(i % 2, $"198.51.100.{40 + i}");
            using var response = await client.LoginJsonAsync(p.Key, "zzzz2222");
            return response.StatusCode;
        });
        var statuses = await Task.WhenAll(attempts);
        Assert.True(statuses.Count(s => s == HttpStatusCode.Unauthorized) <= 5, string.Join(", ", statuses));
        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests }));
        Assert.True(await DbAsync(db => db.LoginFailures.CountAsync(f => f.PatientAccessId == p.AccessId)) <= 5);
        // The right password from a sixth address is refused while the key is locked, on either node.
        using var right = On(1, "198.51.100.60");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await right.LoginJsonAsync(p.Key, p.Password)).StatusCode);
    }

    [PostgresFact]
    public async Task The_login_flood_limit_holds_across_both_nodes()
    {
        // 70 login requests from one address, alternating nodes, inside one minute: the limit (60 per minute per
        // address) is counted once for the cluster, so 10 are refused — per-node counters would refuse none.
        // Right credentials: the login throttle (which counts failures) has nothing to refuse, only the flood limiter.
        var p = await cluster.Seeder.Data.PatientAsync(status: InvoiceStatus.Paid);
        for (var attempt = 0; ; attempt++)
        {
            var from = $"203.0.113.{100 + attempt}";
            var minute = DateTime.UtcNow.Minute;
            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < 70; i++)
            {
                using var client = On(i % 2, from);
                using var response = await client.LoginJsonAsync(p.Key, p.Password);
                statuses.Add(response.StatusCode);
            }
            // A run that straddles a minute boundary sees two windows: measure again from a fresh address.
            if (DateTime.UtcNow.Minute != minute && attempt < 3) continue;
            Assert.Equal(10, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
            Assert.All(statuses.Take(60), s => Assert.Equal(HttpStatusCode.OK, s));
            return;
        }
    }
}
