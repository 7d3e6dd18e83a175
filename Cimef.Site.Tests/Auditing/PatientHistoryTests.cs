using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Auditing;

/// <summary>/Patients/History/{id}: a patient's portal history, paginated with htmx; front desk only.</summary>
public class PatientHistoryTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private static int? _patientId;
    private static readonly SemaphoreSlim Gate = new(1, 1);

    private async Task<int> PatientAsync()
    {
        await Gate.WaitAsync();
        try
        {
            return _patientId ??= await factory.WithDbAsync(async db =>
            {
                var now = factory.Time.GetUtcNow().UtcDateTime;
                var p = await factory.Data.PatientAsync("Aïssatou Historique", InvoiceStatus.Paid, total: 30000, at: now.AddDays(-50));
                var access = p.AccessId!.Value;
                var scan = await factory.Data.ReportAsync(p, "Scanner thoracique", createdAt: now.AddDays(-40));
                var mri = await factory.Data.ReportAsync(p, "IRM du genou", createdAt: now.AddDays(-30));
                for (var i = 0; i < 30; i++) db.AccessEvents.Add(AuditData.Event(AccessEventKinds.LoginSuccess, now.AddDays(-i).AddHours(-1), access));
                for (var i = 0; i < 10; i++) db.AccessEvents.Add(AuditData.Event(AccessEventKinds.Download, now.AddDays(-i).AddMinutes(-50), access, scan));
                for (var i = 0; i < 4; i++) db.AccessEvents.Add(AuditData.Event(AccessEventKinds.Download, now.AddDays(-i).AddMinutes(-40), access, mri));
                db.AccessEvents.Add(AuditData.Event(AccessEventKinds.DownloadDenied, now.AddMinutes(-5), access, 99999));
                db.AccessEvents.Add(AuditData.Event(AccessEventKinds.LoginSuccess, now.AddMinutes(-1), access + 1000)); // someone else
                await db.SaveChangesAsync();
                return p.PatientId;
            });
        }
        finally
        {
            Gate.Release();
        }
    }

    private static int RowCount(string html, string marker) =>
        html[html.IndexOf(marker, StringComparison.Ordinal)..].Split("<tr>").Length - 2;

    [Fact]
    public async Task Shows_counts_last_connection_downloads_per_report_and_a_paginated_history()
    {
        var id = await PatientAsync();
        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        var response = await secretary.GetAsync($"/Patients/History/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains("<html", html);
        Assert.Contains("<span class=\"big\">30</span> connexion(s)", html);
        var now = factory.Time.GetUtcNow().UtcDateTime;
        Assert.Contains($"<span class=\"big\">{factory.Services.GetRequiredService<Cimef.Site.Web.ClinicClock>().DateTime(now.AddHours(-1))}</span> dernière connexion", html);
        Assert.Contains("<tr><td>Scanner thoracique</td>", html);
        Assert.Matches("Scanner thoracique</td><td>[^<]+</td><td class=\"num\">10</td>", html);
        Assert.Matches("IRM du genou</td><td>[^<]+</td><td class=\"num\">4</td>", html);
        Assert.Contains("Événements (45)", html);
        Assert.Equal(20, RowCount(html, "Événements ("));
        Assert.Contains("Téléchargement refusé", html);
        Assert.Contains($"/Patients/History/{id}?p=2", html);

        var page3 = await secretary.HtmxGetAsync($"/Patients/History/{id}?p=3");
        var fragment = await page3.Content.ReadAsStringAsync();
        Assert.StartsWith("<section id=\"patient-history\"", fragment.TrimStart());
        Assert.DoesNotContain("<html", fragment);
        Assert.Equal(5, RowCount(WebUtility.HtmlDecode(fragment), "Événements ("));
        Assert.DoesNotContain("Page suivante", fragment);
        Assert.Contains("Page précédente", fragment);
    }

    [Fact]
    public async Task A_patient_without_access_or_unknown_is_handled()
    {
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var lonely = (await factory.Data.PatientAsync("Sans Accès", InvoiceStatus.Draft)).PatientId;
        var html = WebUtility.HtmlDecode(await (await admin.HtmxGetAsync($"/Patients/History/{lonely}")).Content.ReadAsStringAsync());
        Assert.Contains("pas encore d'accès au portail", html);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/Patients/History/987654")).StatusCode);
    }

    [Theory]
    [InlineData(Roles.Doctor)]
    [InlineData(Roles.Accountant)]
    public async Task Doctors_and_accountants_are_refused(string role)
    {
        var id = await PatientAsync();
        var client = await factory.StaffClientAsync(role);
        var response = await client.GetAsync($"/Patients/History/{id}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/Denied", response.Headers.Location!.PathAndQuery);
        var htmx = await client.HtmxGetAsync($"/Patients/History/{id}");
        Assert.True(htmx.Headers.Contains("HX-Redirect"));
    }
}
