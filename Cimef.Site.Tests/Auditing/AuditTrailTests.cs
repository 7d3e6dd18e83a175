using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using AuditLog = Cimef.Site.Auditing.Audit;

namespace Cimef.Site.Tests.Auditing;

/// <summary>The staff audit page: filters by person, action and dates; paginates; exports CSV; admins only.</summary>
public class AuditTrailTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private static bool _seeded;
    private static readonly SemaphoreSlim Gate = new(1, 1);

    private async Task SeedAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_seeded) return;
            _ = factory.Server;
            var now = factory.Time.GetUtcNow().UtcDateTime;
            await factory.WithDbAsync(db =>
            {
                for (var i = 0; i < 120; i++)
                    AuditLog.Staff(db, "u1", "fatou@cimef.test", now.AddDays(-10).AddMinutes(i), "invoice.create", "Invoice", i, $"Facture {i}");
                for (var i = 0; i < 7; i++)
                    AuditLog.Staff(db, "u2", "moussa@cimef.test", now.AddDays(-3).AddMinutes(i), "report.upload", "PatientReport", i, "Rapport, \"IRM\"");
                AuditLog.Staff(db, "u2", "moussa@cimef.test", now.AddDays(-1), "patient.update", "Patient", 5, "=HYPERLINK(\"http://evil\")");
                AuditLog.Staff(db, "u2", "moussa@cimef.test", now.AddDays(-40), "patient.update", "Patient", 6, "ancien");
                AuditLog.Staff(db, "u3", "awa@cimef.test", now.AddDays(-2), "patient.create", "Patient", 7, "Awa;=1+1");
                return db.SaveChangesAsync();
            });
            _seeded = true;
        }
        finally
        {
            Gate.Release();
        }
    }

    private static int RowCount(string html) => html.Split("<tr>").Length - 2; // minus the text before and the header row

    [Fact]
    public async Task Filters_by_person_action_and_dates()
    {
        await SeedAsync();
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var now = factory.Time.GetUtcNow().UtcDateTime;

        var byPerson = await admin.GetStringAsync("/Audit?person=moussa@cimef.test");
        Assert.Contains("9 entrée(s)", byPerson);
        Assert.DoesNotContain("fatou@cimef.test</td>", byPerson);

        var byAction = await admin.GetStringAsync("/Audit?person=moussa@cimef.test&action=report.upload");
        Assert.Contains("7 entrée(s)", byAction);
        Assert.Equal(7, RowCount(byAction));

        var byDates = await admin.GetStringAsync($"/Audit?person=moussa@cimef.test&from={now.AddDays(-5):yyyy-MM-dd}&to={now:yyyy-MM-dd}");
        Assert.Contains("8 entrée(s)", byDates);
        Assert.DoesNotContain("ancien", byDates);

        var bad = await admin.GetAsync($"/Audit?from={now:yyyy-MM-dd}&to={now.AddDays(-5):yyyy-MM-dd}");
        Assert.Equal(HttpStatusCode.OK, bad.StatusCode);
        Assert.Contains("La date de fin doit être postérieure", WebUtility.HtmlDecode(await bad.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task Paginates_with_htmx_fragments()
    {
        await SeedAsync();
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var page1 = await admin.GetStringAsync("/Audit?action=invoice.create");
        Assert.Equal(50, RowCount(page1));
        Assert.Contains("Page suivante", page1);
        var page3 = await admin.HtmxGetAsync("/Audit?action=invoice.create&p=3");
        var fragment = await page3.Content.ReadAsStringAsync();
        Assert.StartsWith("<div id=\"audit-results\">", fragment.TrimStart());
        Assert.DoesNotContain("<html", fragment);
        Assert.Equal(20, RowCount(fragment));
        Assert.DoesNotContain("Page suivante", fragment);
        Assert.Contains("HX-Request", page3.Headers.Vary);
    }

    [Fact]
    public async Task Exports_the_filtered_rows_as_csv_with_formulas_neutralised()
    {
        await SeedAsync();
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var response = await admin.GetAsync("/Audit?handler=Csv&person=moussa@cimef.test&action=patient.update");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        var rows = await AuditData.CsvAsync(response);
        Assert.Equal(3, rows.Length);
        Assert.Equal(["Date (UTC)", "Personne", "Action", "Objet", "Identifiant", "Détail"], rows[0]);
        Assert.Equal(["moussa@cimef.test", "patient.update", "Patient", "5", "'=HYPERLINK(\"http://evil\")"], rows[1][1..]);

        var all = await AuditData.CsvAsync(await admin.GetAsync("/Audit?handler=Csv&action=report.upload"));
        Assert.Equal("Rapport, \"IRM\"", all[1][5]);

        var created = await AuditData.CsvAsync(await admin.GetAsync("/Audit?handler=Csv&action=patient.create"));
        Assert.Equal(2, created.Length);
        Assert.Equal(["awa@cimef.test", "patient.create", "Patient", "7", "Awa;=1+1"], created[1][1..]);
    }

    [Theory]
    [InlineData(Roles.Secretary)]
    [InlineData(Roles.Doctor)]
    [InlineData(Roles.Accountant)]
    public async Task Only_admins_read_the_audit_trail(string role)
    {
        var client = await factory.StaffClientAsync(role);
        foreach (var url in new[] { "/Audit", "/Audit?handler=Csv" })
        {
            var response = await client.GetAsync(url);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/Account/Denied", response.Headers.Location!.PathAndQuery);
        }
    }
}
