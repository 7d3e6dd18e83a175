using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Portal;

/// <summary>/patient/dashboard: profile, reports newest first, empty state, htmx refresh, withdrawn and unavailable files.</summary>
public class DashboardTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public DashboardTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
    }

    [Fact]
    public async Task Shows_the_patient_the_permanent_access_and_their_reports_newest_first()
    {
        var p = await _factory.Data.PatientAsync("Mame Diarra Bousso");
        var now = _factory.Time.GetUtcNow().UtcDateTime;
        var older = await _factory.Data.ReportAsync(p, "Radiographie du thorax", createdAt: now.AddDays(-3));
        var newer = await _factory.Data.ReportAsync(p, "IRM du genou", content: new byte[1258291], createdAt: now.AddDays(-1));
        var client = await _factory.PatientClientAsync(p);

        var response = await client.GetAsync("/patient/dashboard");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl!.ToString());
        var html = await response.TextAsync();
        Assert.Contains("Mame Diarra Bousso", html);
        Assert.Contains(Cimef.Site.FrontDesk.Phones.Display(p.Phone), html);
        Assert.Contains("Accès permanent", html);
        Assert.Contains("<dt>Connexions</dt><dd>1</dd>", html);
        Assert.Contains("25/11/2026 09:", html); // last connection (Dakar = UTC)
        Assert.True(html.IndexOf("IRM du genou", StringComparison.Ordinal) < html.IndexOf("Radiographie du thorax", StringComparison.Ordinal));
        Assert.Contains("1,2 Mo", html);
        Assert.Contains("PDF", html);
        Assert.Contains("téléchargé 0 fois", html);
        Assert.Contains($"href=\"/patient/reports/{newer}\"", html);
        Assert.Contains($"href=\"/patient/reports/{older}?view=1\"", html);
        Assert.Contains("Se déconnecter", html);
        Assert.Contains("historyCacheSize", html);
        Assert.DoesNotMatch("<script>|style=\"", html);
    }

    [Fact]
    public async Task Without_reports_the_empty_state_is_shown()
    {
        var p = await _factory.Data.PatientAsync();
        var client = await _factory.PatientClientAsync(p);
        Assert.Contains("Aucun résultat disponible pour le moment", await (await client.GetAsync("/patient/dashboard")).TextAsync());
    }

    [Fact]
    public async Task Htmx_refresh_returns_only_the_report_list()
    {
        var p = await _factory.Data.PatientAsync();
        var client = await _factory.PatientClientAsync(p);
        await _factory.Data.ReportAsync(p, "Échographie abdominale");
        var response = await client.HtmxGetAsync("/patient/dashboard");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.TextAsync();
        Assert.StartsWith("<section id=\"reports\"", html.Trim());
        Assert.DoesNotContain("<html", html);
        Assert.Contains("Échographie abdominale", html);
        Assert.Contains("HX-Request", response.Headers.Vary);
    }

    [Fact]
    public async Task A_withdrawn_report_disappears_and_its_old_link_says_it_is_no_longer_accessible()
    {
        var p = await _factory.Data.PatientAsync();
        var id = await _factory.Data.ReportAsync(p, "Scanner cérébral");
        var client = await _factory.PatientClientAsync(p);
        Assert.Contains("Scanner cérébral", await (await client.GetAsync("/patient/dashboard")).TextAsync());
        await _factory.WithDbAsync(db => db.PatientReports.Where(r => r.Id == id)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.IsActive, false).SetProperty(r => r.WithdrawalReason, "erreur de patient")));

        Assert.DoesNotContain("Scanner cérébral", await (await client.GetAsync("/patient/dashboard")).TextAsync());
        var old = await client.GetAsync($"/patient/reports/{id}");
        Assert.Equal(HttpStatusCode.Gone, old.StatusCode);
        Assert.Contains("Ce rapport n'est plus accessible", await old.TextAsync());
    }

    [Fact]
    public async Task An_expired_report_is_not_listed()
    {
        var p = await _factory.Data.PatientAsync();
        var id = await _factory.Data.ReportAsync(p, "Mammographie");
        await _factory.WithDbAsync(db => db.PatientReports.Where(r => r.Id == id)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.ExpiresAt, _factory.Time.GetUtcNow().UtcDateTime.AddMinutes(-1))));
        var client = await _factory.PatientClientAsync(p);
        Assert.DoesNotContain("Mammographie", await (await client.GetAsync("/patient/dashboard")).TextAsync());
        Assert.Equal(HttpStatusCode.Gone, (await client.GetAsync($"/patient/reports/{id}")).StatusCode);
    }

    [Theory]
    [InlineData(FileIntegrity.Missing)]
    [InlineData(FileIntegrity.Altered)]
    public async Task A_report_whose_file_is_missing_or_altered_says_it_is_temporarily_unavailable(FileIntegrity integrity)
    {
        var p = await _factory.Data.PatientAsync();
        var id = await _factory.Data.ReportAsync(p, "Panoramique dentaire", integrity: integrity);
        var client = await _factory.PatientClientAsync(p);
        var html = await (await client.GetAsync("/patient/dashboard")).TextAsync();
        Assert.Contains("Panoramique dentaire", html);
        Assert.Contains("Fichier temporairement indisponible", html);
        Assert.DoesNotContain($"href=\"/patient/reports/{id}\"", html);
    }

    [Fact]
    public async Task Another_patients_reports_never_appear()
    {
        var a = await _factory.Data.PatientAsync();
        var b = await _factory.Data.PatientAsync();
        await _factory.Data.ReportAsync(b, "Rapport de quelqu'un d'autre");
        var client = await _factory.PatientClientAsync(a);
        var html = await (await client.GetAsync("/patient/dashboard")).TextAsync();
        Assert.DoesNotContain("quelqu'un d'autre", html);
        Assert.DoesNotContain(b.FullName, html);
    }
}
