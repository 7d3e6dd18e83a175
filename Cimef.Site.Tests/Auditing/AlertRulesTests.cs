using System.Net;
using Cimef.Site.Auditing;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Auditing;

/// <summary>Each alert rule fires on its pattern, not on normal use, and comes back after acknowledgement only on new evidence.</summary>
public class AlertRulesTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private DateTime Now => factory.Time.GetUtcNow().UtcDateTime;

    private async Task EvaluateAsync()
    {
        _ = factory.Server;
        await factory.WithScopeAsync(sp => sp.GetRequiredService<AlertRules>().EvaluateAsync(Now));
    }

    private Task<List<Alert>> AlertsAsync(string dedupKey) =>
        factory.WithDbAsync(db => db.Alerts.Where(a => a.DedupKey == dedupKey).ToListAsync());

    private Task AddFailuresAsync(string key, string ip, int count) => factory.WithDbAsync(async db =>
    {
        for (var i = 0; i < count; i++)
            db.LoginFailures.Add(new LoginFailure { Key = key, ClientIp = ip, At = Now.AddSeconds(-10 * i) });
        return await db.SaveChangesAsync();
    });

    [Fact]
    public async Task Repeated_failures_on_one_key_raise_one_alert_that_names_only_the_key_suffix()
    {
        _ = factory.Server;
        await AddFailuresAsync("QWERTYUPAB7Z", "10.0.0.1", 5);
        await AddFailuresAsync("QWERTYUPAB8Y", "10.0.0.2", 4);
        await EvaluateAsync();
        await EvaluateAsync();

        var alerts = await AlertsAsync("login_failures:clé …AB7Z");
        var alert = Assert.Single(alerts);
        Assert.Equal(AlertLevel.Warning, alert.Level);
        Assert.DoesNotContain("QWERTYUP", alert.Subject + alert.Detail);
        Assert.Empty(await AlertsAsync("login_failures:clé …AB8Y"));

        // Acknowledged: not raised again for the same failures, raised again when the key is attacked anew.
        await factory.WithDbAsync(db => db.Alerts.Where(a => a.Id == alert.Id).ExecuteUpdateAsync(u => u.SetProperty(a => a.AcknowledgedAt, Now)));
        factory.Time.Advance(TimeSpan.FromSeconds(1));
        await EvaluateAsync();
        Assert.Single(await AlertsAsync("login_failures:clé …AB7Z"));
        await AddFailuresAsync("QWERTYUPAB7Z", "10.0.0.1", 1);
        await EvaluateAsync();
        Assert.Equal(2, (await AlertsAsync("login_failures:clé …AB7Z")).Count);
    }

    [Fact]
    public async Task The_monitor_pass_evaluates_the_rules()
    {
        _ = factory.Server;
        await AddFailuresAsync("MONITORKEY9Q", "10.0.0.3", 5);
        var monitor = factory.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<AlertMonitor>().Single();
        await monitor.RunOnceAsync();
        Assert.Single(await AlertsAsync("login_failures:clé …EY9Q"));
    }

    [Fact]
    public async Task One_ip_trying_twenty_keys_in_ten_minutes_raises_a_critical_alert()
    {
        _ = factory.Server;
        for (var i = 0; i < 20; i++) await AddFailuresAsync($"SCANKEY{i:D5}", "198.51.100.7", 1);
        for (var i = 0; i < 19; i++) await AddFailuresAsync($"TYPOKEY{i:D5}", "198.51.100.8", 1);
        await EvaluateAsync();
        var alert = Assert.Single(await AlertsAsync("ip_many_keys:IP 198.51.100.7"));
        Assert.Equal(AlertLevel.Critical, alert.Level);
        Assert.Contains("20 clés", alert.Detail);
        Assert.Empty(await AlertsAsync("ip_many_keys:IP 198.51.100.8"));
    }

    [Fact]
    public async Task Fifty_downloads_by_one_access_within_a_minute_raise_an_alert_but_a_steady_pace_does_not()
    {
        _ = factory.Server;
        await factory.WithDbAsync(async db =>
        {
            for (var i = 0; i < 50; i++) db.AccessEvents.Add(AuditData.Event(AccessEventKinds.Download, Now.AddSeconds(-i), 9001, 1));
            for (var i = 0; i < 60; i++) db.AccessEvents.Add(AuditData.Event(AccessEventKinds.Download, Now.AddSeconds(-5 * i), 9002, 1));
            for (var i = 0; i < 49; i++) db.AccessEvents.Add(AuditData.Event(AccessEventKinds.Download, Now.AddSeconds(-i), 9003, 1));
            return await db.SaveChangesAsync();
        });
        await EvaluateAsync();
        Assert.Single(await AlertsAsync("download_burst:accès 9001"));
        Assert.Empty(await AlertsAsync("download_burst:accès 9002"));
        Assert.Empty(await AlertsAsync("download_burst:accès 9003"));
    }

    [Fact]
    public async Task Missing_or_altered_report_files_raise_critical_alerts()
    {
        _ = factory.Server;
        var p = await factory.Data.PatientAsync("Fichier Test", InvoiceStatus.Paid, total: 1000, at: Now);
        var (missing, altered, ok) = (await factory.Data.ReportAsync(p, "Scanner", createdAt: Now), await factory.Data.ReportAsync(p, "IRM", createdAt: Now), await factory.Data.ReportAsync(p, "Radio", createdAt: Now));
        await factory.WithDbAsync(async db =>
        {
            foreach (var (id, integrity) in new[] { (missing, FileIntegrity.Missing), (altered, FileIntegrity.Altered), (ok, FileIntegrity.Ok) })
                await db.PatientReports.Where(r => r.Id == id).ExecuteUpdateAsync(u => u.SetProperty(r => r.Integrity, integrity).SetProperty(r => r.IntegrityCheckedAt, Now));
            db.AccessEvents.Add(AuditData.Event(AccessEventKinds.FileMissing, Now, p.AccessId, 4242));
            return await db.SaveChangesAsync();
        });
        await EvaluateAsync();
        Assert.Contains("manquant", Assert.Single(await AlertsAsync($"report_file:rapport {missing}")).Detail);
        Assert.Contains("modifié", Assert.Single(await AlertsAsync($"report_file:rapport {altered}")).Detail);
        Assert.Empty(await AlertsAsync($"report_file:rapport {ok}"));
        Assert.Equal(AlertLevel.Critical, Assert.Single(await AlertsAsync("report_file:rapport 4242")).Level);
    }

    [Fact]
    public async Task Notifications_failing_for_more_than_a_day_raise_an_alert_a_fresh_retry_does_not()
    {
        _ = factory.Server;
        var patientId = (await factory.Data.PatientAsync("Notif Test", InvoiceStatus.Draft, at: Now)).PatientId;
        await factory.WithDbAsync(async db =>
        {
            db.OutboxMessages.Add(new OutboxMessage { PatientId = patientId, Recipient = "x@example.sn", Channel = OutboxChannel.Email, Status = OutboxStatus.Pending, Attempts = 2, CreatedAt = Now.AddHours(-3), NextAttemptAt = Now });
            db.OutboxMessages.Add(new OutboxMessage { PatientId = patientId, Recipient = "+221770000000", Channel = OutboxChannel.Sms, Status = OutboxStatus.Sent, Attempts = 1, CreatedAt = Now.AddDays(-3), NextAttemptAt = Now, SentAt = Now.AddDays(-3) });
            return await db.SaveChangesAsync();
        });
        await EvaluateAsync();
        Assert.Empty(await AlertsAsync("notifications:notifications patients"));

        await factory.WithDbAsync(db =>
        {
            db.OutboxMessages.Add(new OutboxMessage { PatientId = patientId, Recipient = "+221770000001", Channel = OutboxChannel.Sms, Status = OutboxStatus.Pending, Attempts = 5, CreatedAt = Now.AddHours(-25), NextAttemptAt = Now });
            return db.SaveChangesAsync();
        });
        await EvaluateAsync();
        Assert.Contains("1 notification(s)", Assert.Single(await AlertsAsync("notifications:notifications patients")).Detail);
    }

    [Fact]
    public async Task A_slow_portal_p95_raises_an_alert_and_normal_response_times_do_not()
    {
        _ = factory.Server;
        var timings = factory.Services.GetRequiredService<PortalTimings>();
        for (var i = 0; i < 40; i++) timings.Record(Now.AddMinutes(-1), 40 + i);
        await EvaluateAsync();
        Assert.Empty(await AlertsAsync("slow_responses:portail patient"));

        for (var i = 0; i < 40; i++) timings.Record(Now, 3000);
        await EvaluateAsync();
        Assert.Contains("3000 ms", Assert.Single(await AlertsAsync("slow_responses:portail patient")).Detail);
    }

    [Fact]
    public async Task The_middleware_measures_portal_requests_only()
    {
        var client = factory.NewClient();
        var timings = factory.Services.GetRequiredService<PortalTimings>();
        var since = Now.AddTicks(1);
        factory.Time.Advance(TimeSpan.FromSeconds(1));
        async Task<long> CountAsync() => await factory.WithDbAsync(async db =>
        {
            await timings.FlushAsync(db);
            return (await PortalTimings.SinceAsync(db, since, 1_000_000)).Count;
        });
        var before = await CountAsync();
        await client.GetAsync("/patient");
        await client.GetAsync("/api/reports/download/1/");
        await client.GetAsync("/Account/SignIn");
        await client.GetAsync("/healthz");
        Assert.Equal(before + 2, await CountAsync());
    }

    /// <summary>
    /// The de-duplication is a check-then-insert. Twenty units of work raising the same alert,
    /// each on its own open connection and released together, leave one open alert on both engines.
    /// </summary>
    [Fact]
    public async Task Twenty_concurrent_raises_of_the_same_alert_leave_one()
    {
        _ = factory.Server;
        var scopes = Enumerable.Range(0, 20).Select(_ => factory.Services.CreateAsyncScope()).ToList();
        try
        {
            foreach (var s in scopes) await s.ServiceProvider.GetRequiredService<Cimef.Site.Data.CimefDb>().Database.OpenConnectionAsync();
            using var go = new SemaphoreSlim(0);
            var raises = scopes.Select(s => Task.Run(async () =>
            {
                var db = s.ServiceProvider.GetRequiredService<Cimef.Site.Data.CimefDb>();
                await go.WaitAsync();
                await using var tx = await Alerts.BeginAsync(db);
                var alert = await Alerts.RaiseAsync(db, AlertLevel.Critical, "race", "sujet unique", "détail", Now);
                await db.SaveChangesAsync();
                await tx!.CommitAsync();
                return alert is not null;
            })).ToList();
            go.Release(raises.Count);
            Assert.Equal(1, (await Task.WhenAll(raises)).Count(raised => raised));
        }
        finally
        {
            foreach (var s in scopes) await s.DisposeAsync();
        }
        Assert.Single(await AlertsAsync("race:sujet unique"));
    }

    [Fact]
    public async Task Acknowledging_an_alert_is_audited_and_works_with_and_without_htmx()
    {
        _ = factory.Server;
        var (first, second) = await factory.WithDbAsync(async db =>
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            var a = await Alerts.RaiseAsync(db, AlertLevel.Warning, "test", "sujet A", "détail", Now);
            var b = await Alerts.RaiseAsync(db, AlertLevel.Critical, "test", "sujet B", "détail", Now);
            await db.SaveChangesAsync();
            await tx.CommitAsync();
            return (a!.Id, b!.Id);
        });
        var admin = await factory.StaffClientAsync(Roles.Admin, "alert-admin@cimef.test");
        var page = await (await admin.GetAsync("/Audit/Alerts")).Content.ReadAsStringAsync();
        Assert.Contains("sujet A", page);
        Assert.Contains("Acquitter", page);

        var plain = await admin.PostFormAsync($"/Audit/Alerts?handler=Acknowledge&id={first}", [], tokenPage: "/Audit/Alerts");
        Assert.Equal(HttpStatusCode.Redirect, plain.StatusCode);
        var htmx = await admin.PostFormAsync($"/Audit/Alerts?handler=Acknowledge&id={second}", [], tokenPage: "/Audit/Alerts", htmx: true);
        Assert.Equal(HttpStatusCode.OK, htmx.StatusCode);
        var fragment = await htmx.Content.ReadAsStringAsync();
        Assert.StartsWith("<tr", fragment.TrimStart());
        Assert.Contains("Acquittée le", fragment);

        await factory.WithDbAsync(async db =>
        {
            foreach (var id in new[] { first, second })
            {
                var alert = await db.Alerts.SingleAsync(a => a.Id == id);
                Assert.Equal(Now, alert.AcknowledgedAt);
                Assert.Equal("alert-admin@cimef.test", alert.AcknowledgedBy);
                Assert.True(await db.AuditEntries.AnyAsync(e => e.Action == "alert.acknowledge" && e.EntityId == id.ToString() && e.UserName == "alert-admin@cimef.test"));
            }
            return 0;
        });
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostFormAsync("/Audit/Alerts?handler=Acknowledge&id=999999", [], tokenPage: "/Audit/Alerts")).StatusCode);
    }

    [Fact]
    public async Task Admins_see_the_latest_open_alerts_on_the_home_page_and_other_roles_cannot_acknowledge()
    {
        _ = factory.Server;
        await factory.WithDbAsync(async db =>
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            await Alerts.RaiseAsync(db, AlertLevel.Critical, "ip_many_keys", "IP 203.0.113.9", "détail", Now);
            await db.SaveChangesAsync();
            await tx.CommitAsync();
            return 0;
        });
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var home = System.Net.WebUtility.HtmlDecode(await (await admin.GetAsync("/")).Content.ReadAsStringAsync());
        Assert.Contains("IP 203.0.113.9", home);
        Assert.Contains("Nombreuses clés essayées", home);

        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        Assert.DoesNotContain("IP 203.0.113.9", await (await secretary.GetAsync("/")).Content.ReadAsStringAsync());
        var refused = await secretary.GetAsync("/Audit/Alerts");
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.StartsWith("/Account/Denied", refused.Headers.Location!.PathAndQuery);
    }
}
