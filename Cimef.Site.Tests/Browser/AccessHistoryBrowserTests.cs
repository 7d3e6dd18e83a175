using Cimef.Site.Access;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// « Historique de mon accès » on a 360×640 phone in Chromium: reached from the dashboard, « Voir plus » appends the
/// next rows with JavaScript and opens the next page without it; axe-core; the README's screenshot
/// (09-patient-history-phone, see <see cref="JourneyScreens"/>).
/// </summary>
public class AccessHistoryBrowserTests : IClassFixture<KestrelFactory>, IClassFixture<ChromiumFixture>
{
    private readonly KestrelFactory _factory;
    private readonly ChromiumFixture _chromium;
    private readonly JourneyScreens _screens;

    public AccessHistoryBrowserTests(KestrelFactory factory, ChromiumFixture chromium, ITestOutputHelper output)
    {
        _factory = factory;
        _chromium = chromium;
        _screens = new JourneyScreens(output.WriteLine);
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    private async Task<TestPatient> PatientWithHistoryAsync()
    {
        _ = _factory.Address;
        var p = await _factory.Data.PatientAsync("Aminata Diop");
        var access = p.AccessId!.Value;
        var report = await _factory.Data.ReportAsync(p, "IRM du genou droit");
        var now = _factory.Time.GetUtcNow().UtcDateTime;
        await _factory.WithDbAsync(async db =>
        {
            const string android = "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36";
            for (var i = 0; i < 25; i++)
                db.AccessEvents.Add(new AccessEvent { Kind = AccessEventKinds.LoginSuccess, At = now.AddDays(-3 - i), PatientAccessId = access, UserAgent = android });
            db.AccessEvents.Add(new AccessEvent { Kind = AccessEventKinds.Download, At = now.AddHours(-20), PatientAccessId = access, ReportId = report, UserAgent = android });
            db.AccessEvents.Add(new AccessEvent { Kind = AccessEventKinds.ShareOpen, At = now.AddHours(-26), PatientAccessId = access, ReportId = report, Detail = "1",
                UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0" });
            db.AccessEvents.Add(new AccessEvent { Kind = AccessEventKinds.LoginSuccess, At = now.AddHours(-30), PatientAccessId = access,
                UserAgent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1" });
            db.AuditEntries.Add(new AuditEntry { At = now.AddHours(-50), UserName = "caisse@cimef.test", Action = CredentialHandover.RevealAction,
                EntityType = nameof(PatientAccess), EntityId = access.ToString(), Detail = $"patient {p.PatientId}, facture {p.InvoiceNumber}, canal page",
                Handover = CredentialHandoverKind.Printed });
            return await db.SaveChangesAsync();
        });
        return p;
    }

    [ChromiumTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task From_the_dashboard_with_voir_plus_on_a_phone(bool javaScript)
    {
        var p = await PatientWithHistoryAsync();
        Directory.CreateDirectory(JourneyScreens.OutputDir);
        await using var context = await _chromium.PhoneContextAsync(_factory.Address, javaScript);
        var page = await context.NewPageAsync();
        await PortalBudget.LoginAsync(page, p);

        await _screens.StepAsync(javaScript ? "09-patient-history-phone" : "09-patient-history-nojs", page, screenshot: javaScript, step: async () =>
        {
            await page.GetByRole(AriaRole.Link, new() { Name = "Historique de mon accès" }).ClickAsync();
            await page.WaitForPageAsync("**/patient/history");
            Assert.Equal("Historique de mon accès", await page.Locator("h1").TextContentAsync());
            Assert.Equal(20, await page.Locator("ol.hist li").CountAsync());
            Assert.Contains("Connexion — téléphone Android", await page.Locator("ol.hist").InnerTextAsync());
            Assert.Contains("IRM du genou droit — ouvert via le lien partagé du", await page.Locator("ol.hist").InnerTextAsync());
            Assert.Contains("Identifiants imprimés par le cabinet", await page.Locator("ol.hist").InnerTextAsync());
            Assert.DoesNotContain("caisse@cimef.test", await page.ContentAsync());
        });

        await page.GetByRole(AriaRole.Link, new() { Name = "Voir plus" }).ClickAsync();
        if (javaScript)
        {
            // Appended in place as a second list, on the same URL: 30 rows (25 + 4 inserted + this login), the access's
            // creation, and the credentials' e-mail/SMS if the outbox sent them already.
            await Assertions.Expect(page.Locator("ol.hist")).ToHaveCountAsync(2);
            Assert.InRange(await page.Locator("ol.hist li").CountAsync(), 31, 33);
            Assert.EndsWith("/patient/history", page.Url);
            Assert.Equal(0, await page.GetByRole(AriaRole.Link, new() { Name = "Voir plus" }).CountAsync());
        }
        else
        {
            await page.WaitForPageAsync("**/patient/history?p=2");
            Assert.InRange(await page.Locator("ol.hist li").CountAsync(), 11, 13);
            Assert.Equal(1, await page.GetByRole(AriaRole.Link, new() { Name = "Plus récents" }).CountAsync());
        }
    }

    [ChromiumFact]
    public async Task Passes_axe_core()
    {
        var p = await PatientWithHistoryAsync();
        await using var context = await _chromium.PhoneContextAsync(_factory.Address, bypassCsp: true);
        var page = await context.NewPageAsync();
        await PortalBudget.LoginAsync(page, p);
        await page.GotoAsync("/patient/history");
        var result = await page.RunAxe();
        Assert.True(result.Violations.Length == 0,
            string.Join("; ", result.Violations.Select(v => $"{v.Id}: {v.Help} ({string.Join(", ", v.Nodes.Select(n => n.Html))})")));
    }
}
