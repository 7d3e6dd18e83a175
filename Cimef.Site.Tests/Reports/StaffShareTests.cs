using System.Net;
using System.Text.RegularExpressions;
using Cimef.Site.Data.Entities;
using Cimef.Site.Notifications;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Notifications;
using Cimef.Site.Tests.Portal;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Reports;

/// <summary>A real SMTP server and a fake Orange SMS API, so the doctor's two messages can be read back.</summary>
public sealed class ShareNotifyFactory : CimefFactory
{
    public int SmtpPort { get; } = FreePort.Next();
    public FakeProvider Sms { get; } = FakeProvider.Start();

    public ShareNotifyFactory()
    {
        Settings["Email:Smtp:Host"] = "127.0.0.1";
        Settings["Email:Smtp:Port"] = SmtpPort.ToString();
        Settings["Email:Smtp:Security"] = "None";
        Settings["Sms:Provider"] = "Orange";
        Settings["Sms:TimeoutSeconds"] = "1";
        Settings["Sms:Orange:BaseUrl"] = Sms.Address;
        Settings["Sms:Orange:ClientId"] = "client-id";
        Settings["Sms:Orange:ClientSecret"] = "client-secret";
        Settings["Sms:Orange:SenderAddress"] = "tel:+221770000000";
        Sms.Respond = r => r.RawTarget == "/oauth/v3/token" ? (200, """{"token_type":"Bearer","access_token":"t","expires_in":3600}""") : (201, "{}");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Sms.DisposeAsync();
    }
}

/// <summary>The clinic shares a report with the referring doctor from the patient page (outbox, audit, revoke).</summary>
public partial class StaffShareTests(ShareNotifyFactory factory) : IClassFixture<ShareNotifyFactory>
{
    private async Task<(TestPatient P, int ReportId, HttpClient Staff)> SetupAsync()
    {
        var p = await factory.Data.PatientAsync(email: null, phone: "+221771112233");
        var reportId = await factory.Data.ReportAsync(p, "Échographie abdominale");
        await factory.ProcessOutboxAsync(); // the patient's own notifications, out of the way
        var staff = await factory.StaffClientAsync("Secretary");
        return (p, reportId, staff);
    }

    [Fact]
    public async Task Link_by_email_and_code_by_sms_are_queued_audited_sent_and_open_the_report()
    {
        await using var smtp = await LoopbackSmtp.StartAsync(factory.SmtpPort);
        var (p, reportId, staff) = await SetupAsync();
        var page = await staff.GetAsync($"/Patients/Shares/{p.PatientId}");
        Assert.Contains("Échographie abdominale", await page.TextAsync());

        var r = await staff.PostFormAsync($"/Patients/Shares/{p.PatientId}?handler=Create", new()
        {
            ["Input.ReportId"] = reportId.ToString(), ["Input.Days"] = "7",
            ["Input.Email"] = "dr.ndiaye@example.sn", ["Input.Phone"] = "77 444 55 66",
        }, tokenPage: $"/Patients/Shares/{p.PatientId}");
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);

        var queued = (await factory.OutboxOfAsync(p.PatientId)).Where(m => m.ReportShareId != null).ToList();
        Assert.Equal(2, queued.Count);
        Assert.Contains(queued, m => m is { Kind: OutboxKind.ShareLink, Channel: OutboxChannel.Email, Recipient: "dr.ndiaye@example.sn" });
        Assert.Contains(queued, m => m is { Kind: OutboxKind.ShareCode, Channel: OutboxChannel.Sms } && m.Recipient.EndsWith("774445566"));
        var audit = await factory.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.Action == "share.create" && a.Detail!.Contains($"rapport {reportId}")));
        Assert.Contains("dr.ndiaye@example.sn", audit.Detail);

        factory.Time.Advance(TimeSpan.FromSeconds(2));
        await factory.ProcessOutboxAsync();
        var sent = (await factory.OutboxOfAsync(p.PatientId)).Where(m => m.ReportShareId != null).ToList();
        Assert.All(sent, m => Assert.Equal(OutboxStatus.Sent, m.Status));
        var mail = Assert.Single(smtp.Received, m => m.Subject == ShareMessages.LinkSubject);
        var token = Regex.Match(mail.TextBody ?? "", "/s/([A-Za-z0-9_-]{22})").Groups[1].Value;
        Assert.NotEmpty(token);
        var sms = factory.Sms.Requests.Last(x => x.Body.Contains("code du resultat", StringComparison.Ordinal)).Body;
        var code = CodeRegex().Match(sms).Groups[1].Value;
        Assert.DoesNotContain(code, mail.TextBody ?? ""); // never the link and the code in one message
        Assert.DoesNotContain(p.FullName, mail.TextBody ?? ""); // the link message does not name the patient
        Assert.DoesNotContain(token, sms);
        Assert.Null(await factory.WithDbAsync(db => db.ReportShares.Where(s => s.ReportId == reportId).Select(s => s.ProtectedSecret).SingleAsync()));

        var doctor = factory.NewClient();
        var open = await doctor.PostFormAsync($"/s/{token}", new() { ["code"] = code }, tokenPage: "/patient");
        Assert.Equal(HttpStatusCode.Redirect, open.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await doctor.GetAsync($"/s/{token}/rapport/{reportId}")).StatusCode);

        // Listed on the staff page and revoked from there (audited); the doctor's link then fails.
        var shareId = await factory.WithDbAsync(db => db.ReportShares.Where(s => s.ReportId == reportId).Select(s => s.Id).SingleAsync());
        Assert.Contains("dr.ndiaye@example.sn", await (await staff.GetAsync($"/Patients/Shares/{p.PatientId}")).TextAsync());
        var revoke = await staff.PostFormAsync($"/Patients/Shares/{p.PatientId}?handler=Revoke&shareId={shareId}", new(), tokenPage: $"/Patients/Shares/{p.PatientId}");
        Assert.Equal(HttpStatusCode.Redirect, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await doctor.GetAsync($"/s/{token}")).StatusCode);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "share.revoke" && a.EntityId == shareId.ToString())));
    }

    [Fact]
    public async Task One_contact_gets_the_link_only_and_staff_see_the_code_to_dictate()
    {
        await using var smtp = await LoopbackSmtp.StartAsync(factory.SmtpPort);
        var (p, reportId, staff) = await SetupAsync();
        foreach (var (field, value, channel) in new[] { ("Input.Phone", "+221 77 999 88 77", OutboxChannel.Sms), ("Input.Email", "dr.fall@example.sn", OutboxChannel.Email) })
        {
            var r = await staff.PostFormAsync($"/Patients/Shares/{p.PatientId}?handler=Create", new()
            {
                ["Input.ReportId"] = reportId.ToString(), ["Input.Days"] = "1", [field] = value,
            }, tokenPage: $"/Patients/Shares/{p.PatientId}");
            // The code is shown on this response only, to dictate by phone: never queued on the link's channel.
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var html = await r.TextAsync();
            Assert.Contains("Dictez ce code au médecin par téléphone", html);
            var code = Regex.Match(html, "id=\"share-code\">([0-9]{6})<").Groups[1].Value;
            Assert.NotEmpty(code);
            var shareId = await factory.WithDbAsync(db => db.ReportShares.Where(s => s.ReportId == reportId).OrderByDescending(s => s.Id).Select(s => s.Id).FirstAsync());
            var queued = (await factory.OutboxOfAsync(p.PatientId)).Where(m => m.ReportShareId == shareId).ToList();
            var link = Assert.Single(queued);
            Assert.Equal((OutboxKind.ShareLink, channel), (link.Kind, link.Channel));

            factory.Time.Advance(TimeSpan.FromSeconds(2));
            await factory.ProcessOutboxAsync();
            Assert.Equal(OutboxStatus.Sent, (await factory.OutboxOfAsync(p.PatientId)).Single(m => m.Id == link.Id).Status);
            var text = channel == OutboxChannel.Sms
                ? factory.Sms.Requests.Last(x => x.Body.Contains("/s/", StringComparison.Ordinal)).Body
                : Assert.Single(smtp.Received, m => m.Subject == ShareMessages.LinkSubject).TextBody ?? "";
            Assert.Contains("/s/", text);
            Assert.DoesNotContain(code, text);
            Assert.DoesNotContain(p.FullName, text); // the link message does not name the patient
            Assert.DoesNotContain("Aïssatou", text);
            Assert.DoesNotContain("Aissatou", text);
            // Once the link is sent, no copy of the code is kept.
            Assert.Null(await factory.WithDbAsync(db => db.ReportShares.Where(s => s.Id == shareId).Select(s => s.ProtectedSecret).SingleAsync()));
        }
    }

    [Fact]
    public async Task A_revoked_share_sends_nothing()
    {
        var (p, reportId, staff) = await SetupAsync();
        var r = await staff.PostFormAsync($"/Patients/Shares/{p.PatientId}?handler=Create", new()
        {
            ["Input.ReportId"] = reportId.ToString(), ["Input.Days"] = "1", ["Input.Email"] = "dr@example.sn", ["Input.Phone"] = "+221 77 999 88 77",
        }, tokenPage: $"/Patients/Shares/{p.PatientId}");
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        var queued = (await factory.OutboxOfAsync(p.PatientId)).Where(m => m.ReportShareId != null).ToList();
        Assert.Equal([OutboxKind.ShareLink, OutboxKind.ShareCode], queued.Select(m => m.Kind).ToArray());
        Assert.Equal([OutboxChannel.Email, OutboxChannel.Sms], queued.Select(m => m.Channel).ToArray());

        var shareId = queued[0].ReportShareId!.Value;
        await staff.PostFormAsync($"/Patients/Shares/{p.PatientId}?handler=Revoke&shareId={shareId}", new(), tokenPage: $"/Patients/Shares/{p.PatientId}");
        factory.Time.Advance(TimeSpan.FromSeconds(2));
        await factory.ProcessOutboxAsync();
        Assert.All((await factory.OutboxOfAsync(p.PatientId)).Where(m => m.ReportShareId != null), m => Assert.Equal(OutboxStatus.Failed, m.Status));
    }

    [Fact]
    public async Task Bad_input_is_refused_in_french_and_nothing_is_queued()
    {
        var (p, reportId, staff) = await SetupAsync();
        var other = await factory.Data.PatientAsync();
        var otherReport = await factory.Data.ReportAsync(other);
        foreach (var (report, days, email, phone, message) in new[]
        {
            (reportId.ToString(), "7", "", "", "Indiquez l'e-mail ou le téléphone mobile du médecin."),
            (reportId.ToString(), "3", "dr@example.sn", "", "Choisissez une durée"),
            (reportId.ToString(), "7", "pas-un-email", "", "Adresse e-mail invalide."),
            (reportId.ToString(), "7", "", "abc", "Numéro de téléphone mobile invalide."),
            (otherReport.ToString(), "7", "dr@example.sn", "", "Choisissez un compte rendu publié du patient."),
            ("x", "y", new string('a', 10_000), "", "n'est pas valide"),
        })
        {
            var r = await staff.PostFormAsync($"/Patients/Shares/{p.PatientId}?handler=Create", new()
            {
                ["Input.ReportId"] = report, ["Input.Days"] = days, ["Input.Email"] = email, ["Input.Phone"] = phone,
            }, tokenPage: $"/Patients/Shares/{p.PatientId}");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var text = await r.TextAsync();
            Assert.True(text.Contains(message, StringComparison.Ordinal), message + " not in " + Regex.Match(text, "<form[\\s\\S]{0,1500}").Value);
        }
        Assert.Equal(0, await factory.WithDbAsync(db => db.ReportShares.CountAsync(s => s.ReportId == reportId || s.ReportId == otherReport)));
        Assert.Equal(HttpStatusCode.NotFound, (await staff.PostFormAsync($"/Patients/Shares/{p.PatientId}?handler=Revoke&shareId=999999", new(),
            tokenPage: $"/Patients/Shares/{p.PatientId}")).StatusCode);
    }

    [GeneratedRegex("partage de [^:]*: ([0-9]{6})")]
    private static partial Regex CodeRegex();
}
