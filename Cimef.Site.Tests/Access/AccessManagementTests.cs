using Microsoft.Extensions.DependencyInjection;
using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Invoicing;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Access;

public class AccessManagementTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private async Task<(HttpClient Client, int PatientId, int AccessId)> PatientWithAccessAsync(string name)
    {
        var client = await factory.StaffClientAsync(Roles.Secretary);
        var patientId = await client.CreatePatientAsync(name);
        var invoice = await client.CreateInvoiceAsync(patientId, ("RX-THO", 1));
        var sent = await client.SendInvoiceAsync(invoice.GetProperty("id").GetInt32());
        return (client, patientId, sent.GetProperty("patient_access_id").GetInt32());
    }

    [Fact]
    public async Task A_returning_patient_keeps_the_same_key_and_password_even_after_deactivation()
    {
        var (client, patientId, accessId) = await PatientWithAccessAsync("Retour Patient");
        var first = await (await client.GetAsync($"/api/patients/access/{accessId}/")).JsonAsync();

        Assert.Equal(HttpStatusCode.OK, (await client.PutJsonAsync($"/api/patients/access/{accessId}/", new { is_active = false })).StatusCode);
        var second = await client.CreateInvoiceAsync(patientId, ("ECHO-ABD", 1));
        var sent = await client.SendInvoiceAsync(second.GetProperty("id").GetInt32());
        Assert.Equal(accessId, sent.GetProperty("patient_access_id").GetInt32());

        var again = await (await client.GetAsync($"/api/patients/access/{accessId}/")).JsonAsync();
        Assert.Equal(first.GetProperty("access_key").GetString(), again.GetProperty("access_key").GetString());
        Assert.Equal(first.GetProperty("password").GetString(), again.GetProperty("password").GetString());
        Assert.True(again.GetProperty("is_active").GetBoolean());
        Assert.Equal(1, await factory.WithDbAsync(db => db.PatientAccesses.CountAsync(a => a.PatientId == patientId)));
    }

    [Fact]
    public async Task Regenerating_ends_a_live_session_changes_the_credentials_and_queues_a_notification()
    {
        var (client, patientId, accessId) = await PatientWithAccessAsync("Régénération");
        var before = await factory.WithDbAsync(db => db.PatientAccesses.SingleAsync(a => a.Id == accessId));
        var sessionId = await factory.WithDbAsync(async db =>
        {
            var s = new PatientSession { TokenHash = Guid.NewGuid().ToString("N"), PatientAccessId = accessId, CreatedAt = CimefFactory.Start.UtcDateTime, LastSeenAt = CimefFactory.Start.UtcDateTime, ExpiresAt = CimefFactory.Start.UtcDateTime.AddHours(12) };
            db.PatientSessions.Add(s);
            await db.SaveChangesAsync();
            return s.Id;
        });
        var outboxBefore = await factory.WithDbAsync(db => db.OutboxMessages.CountAsync(o => o.PatientId == patientId));

        var r = await client.PostFormAsync($"/Access/Details/{accessId}?handler=Regenerate", new(), tokenPage: $"/Access/Details/{accessId}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var after = await factory.WithDbAsync(db => db.PatientAccesses.SingleAsync(a => a.Id == accessId));
        Assert.NotEqual(before.AccessKey, after.AccessKey);
        Assert.NotEqual(before.PasswordHash, after.PasswordHash);
        Assert.Contains(Site.Access.CredentialGenerator.FormatKey(after.AccessKey), await r.HtmlAsync());
        var session = await factory.WithDbAsync(db => db.PatientSessions.SingleAsync(s => s.Id == sessionId));
        Assert.NotNull(session.EndedAt);
        Assert.Equal("regenerated", session.EndReason);
        Assert.True(await factory.WithDbAsync(db => db.OutboxMessages.CountAsync(o => o.PatientId == patientId)) > outboxBefore);
    }

    [Fact]
    public async Task Reveal_is_audited_without_the_password()
    {
        var (client, _, accessId) = await PatientWithAccessAsync("Révélation");
        var r = await client.PostFormAsync($"/Access/Details/{accessId}?handler=Reveal", new(), tokenPage: $"/Access/Details/{accessId}");
        var html = await r.HtmlAsync();
        var (_, password) = await factory.Data.CredentialsAsync(accessId);
        Assert.Contains(password, html);
        var audits = await factory.WithDbAsync(db => db.AuditEntries.Where(a => a.Action == "access.reveal" && a.EntityId == accessId.ToString()).ToListAsync());
        Assert.Single(audits);
        Assert.DoesNotContain(await factory.WithDbAsync(db => db.AuditEntries.Select(a => a.Detail ?? "").ToListAsync()), d => d.Contains(password));
    }

    [Fact]
    public async Task A_key_with_too_many_recent_failures_shows_as_locked_and_unlocking_clears_them()
    {
        var (client, _, accessId) = await PatientWithAccessAsync("Verrou Clé");
        var key = await factory.WithDbAsync(db => db.PatientAccesses.Where(a => a.Id == accessId).Select(a => a.AccessKey).SingleAsync());
        // Rows as the throttle writes them: keyed hash of the key, the access it belongs to.
        var stored = Cimef.Site.Portal.LoginThrottle.StoredKey(Cimef.Site.Portal.LoginKey.Of(key, factory.Services.GetRequiredService<Cimef.Site.Access.CredentialProtector>()), device: false);
        await factory.WithDbAsync(async db =>
        {
            for (var i = 0; i < 5; i++)
                db.LoginFailures.Add(new LoginFailure { Key = stored, ClientIp = "10.0.0.1", At = CimefFactory.Start.UtcDateTime.AddSeconds(-i), PatientAccessId = accessId });
            return await db.SaveChangesAsync();
        });
        var list = await client.HtmxGetAsync("/Access?status=locked");
        Assert.Contains("verrouillé", await list.HtmlAsync());
        var api = await (await client.GetAsync("/api/patients/access/?status=locked")).JsonAsync();
        Assert.Contains(api.GetProperty("results").EnumerateArray(), e => e.GetProperty("id").GetInt32() == accessId && e.GetProperty("status").GetString() == "locked");

        var unlock = await client.PostFormAsync($"/Access/Details/{accessId}?handler=Unlock", new(), tokenPage: $"/Access/Details/{accessId}");
        Assert.Equal(HttpStatusCode.Redirect, unlock.StatusCode);
        Assert.Equal(0, await factory.WithDbAsync(db => db.LoginFailures.CountAsync(f => f.PatientAccessId == accessId)));
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "access.unlock" && a.EntityId == accessId.ToString())));
    }

    [Fact]
    public async Task Bulk_deactivate_then_activate_with_htmx()
    {
        var (client, _, a1) = await PatientWithAccessAsync("Lot Un");
        var (_, _, a2) = await PatientWithAccessAsync("Lot Deux");
        var token = await client.GetAntiforgeryTokenAsync("/Access");
        var form = new FormUrlEncodedContent([new("__RequestVerificationToken", token), new("operation", "deactivate"), new("ids", a1.ToString()), new("ids", a2.ToString())]);
        var request = new HttpRequestMessage(HttpMethod.Post, "/Access?handler=Bulk") { Content = form };
        request.Headers.Add("HX-Request", "true");
        var r = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.StartsWith("2 accès", System.Text.Json.JsonDocument.Parse(r.Headers.GetValues("HX-Trigger").Single()).RootElement.GetProperty("toast").GetString());
        Assert.Equal(0, await factory.WithDbAsync(db => db.PatientAccesses.CountAsync(a => (a.Id == a1 || a.Id == a2) && a.IsActive)));

        var back = await client.PostFormAsync("/Access?handler=Bulk", new() { ["operation"] = "activate", ["ids"] = a1.ToString() }, tokenPage: "/Access");
        Assert.Equal(HttpStatusCode.Redirect, back.StatusCode);
        Assert.True(await factory.WithDbAsync(db => db.PatientAccesses.Where(a => a.Id == a1).Select(a => a.IsActive).SingleAsync()));
    }

    [Fact]
    public async Task Accountant_and_doctor_cannot_manage_accesses()
    {
        foreach (var role in new[] { Roles.Accountant, Roles.Doctor })
        {
            var c = await factory.StaffClientAsync(role);
            Assert.Equal(HttpStatusCode.Redirect, (await c.GetAsync("/Access")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await c.GetAsync("/api/patients/access/1/")).StatusCode);
        }
    }
}
