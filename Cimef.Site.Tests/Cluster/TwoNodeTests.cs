using System.Net;
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
        var messages = await DbAsync(db => db.OutboxMessages.Where(m => patients.Contains(m.PatientId)).CountAsync());
        Assert.Equal(200, messages); // an e-mail and an SMS each

        var now = DateTime.UtcNow;
        await DbAsync(db => db.OutboxMessages.Where(m => patients.Contains(m.PatientId)).ExecuteUpdateAsync(s => s.SetProperty(m => m.NextAttemptAt, now)));
        var rows = await WaitForAsync(
            () => DbAsync(db => db.OutboxMessages.AsNoTracking().Where(m => patients.Contains(m.PatientId)).ToListAsync()),
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
        await DbAsync(db => db.OutboxMessages.Where(m => patients.Contains(m.PatientId)).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.NextAttemptAt, DateTime.UtcNow).SetProperty(m => m.ClaimedBy, "node-a").SetProperty(m => m.LeaseUntil, leaseUntil)));

        var rows = await WaitForAsync(
            () => DbAsync(db => db.OutboxMessages.AsNoTracking().Where(m => patients.Contains(m.PatientId)).ToListAsync()),
            r => r.All(m => m.Status == OutboxStatus.Sent), TimeSpan.FromSeconds(60), "the lease's messages sent");

        Assert.All(rows, m =>
        {
            Assert.Equal(("node-b", 1), (m.ClaimedBy, m.Attempts));
            Assert.True(m.SentAt >= leaseUntil.AddSeconds(-1), $"sent at {m.SentAt:O}, lease until {leaseUntil:O}"); // not before the lease ran out (1 s clock rounding)
        });
        Assert.Equal(3, cluster.Smtp.Received.Count(m => m.To.Mailboxes.Single().Address.StartsWith("lease", StringComparison.Ordinal)));
    }

    [Fact(Skip = "needs the shared key ring (wt-keys)")]
    public async Task A_patient_who_logs_in_on_one_node_is_served_by_the_other()
    {
        var p = await cluster.Seeder.Data.PatientAsync(status: InvoiceStatus.Paid);
        await cluster.Seeder.Data.ReportAsync(p);
        // The __Host- cookie is Secure, which an HttpClient does not send over http: carried by hand from A to B.
        using var a = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(cluster.Node(0).Address) };
        using var page = await a.GetAsync("/patient");
        var cookies = page.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).ToList();
        var token = System.Text.RegularExpressions.Regex.Match(await page.Content.ReadAsStringAsync(), "name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"").Groups[1].Value;
        using var login = new HttpRequestMessage(HttpMethod.Post, "/patient")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Input.AccessKey"] = p.Key, ["Input.Password"] = p.Password, ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
            }),
        };
        login.Headers.Add("Cookie", string.Join("; ", cookies));
        using var loggedIn = await a.SendAsync(login);
        Assert.Equal(HttpStatusCode.Redirect, loggedIn.StatusCode);
        cookies.AddRange(loggedIn.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));

        using var b = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(cluster.Node(1).Address) };
        using var dashboard = new HttpRequestMessage(HttpMethod.Get, "/patient/dashboard");
        dashboard.Headers.Add("Cookie", string.Join("; ", cookies));
        using var served = await b.SendAsync(dashboard);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Contains("Compte rendu IRM du genou", await served.Content.ReadAsStringAsync());
    }
}
