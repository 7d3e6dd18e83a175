using Cimef.Site.Tests.Infrastructure;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// The patient's path on a 360×640 phone in real Chromium over real Kestrel: login → dashboard → download →
/// logout, with JavaScript on and off; the byte budgets from the browser's own transfer sizes; axe-core.
/// </summary>
public class PatientPortalBrowserTests : IClassFixture<KestrelFactory>, IClassFixture<ChromiumFixture>
{
    private readonly KestrelFactory _factory;
    private readonly ChromiumFixture _chromium;
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public PatientPortalBrowserTests(KestrelFactory factory, ChromiumFixture chromium, Xunit.Abstractions.ITestOutputHelper output)
    {
        _factory = factory;
        _chromium = chromium;
        _output = output;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    private async Task<(TestPatient Patient, byte[] Report)> PatientWithReportAsync()
    {
        _ = _factory.Address;
        var p = await _factory.Data.PatientAsync();
        var bytes = Cimef.Site.Cli.DemoSeed.MinimalPdf("Compte rendu " + p.FullName);
        await _factory.Data.ReportAsync(p, "IRM du genou", content: bytes);
        return (p, bytes);
    }

    private static Task LoginAsync(IPage page, TestPatient p) => PortalBudget.LoginAsync(page, p);

    [ChromiumTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Login_dashboard_download_logout_on_a_phone(bool javaScript)
    {
        var (p, bytes) = await PatientWithReportAsync();
        await using var context = await _chromium.PhoneContextAsync(_factory.Address, javaScript);
        var page = await context.NewPageAsync();

        await page.GotoAsync("/patient");
        var key = page.GetByLabel("Clé d'accès (12 caractères)");
        await key.FillAsync(p.Key[..5].ToLowerInvariant());
        if (javaScript)
            Assert.Equal("5 sur 12 caractères.", await page.Locator("#key-hint").TextContentAsync());
        await LoginAsync(page, p);
        Assert.Contains(p.FullName, await page.Locator("h1").TextContentAsync());
        Assert.Contains("Accès permanent", await page.ContentAsync());

        if (javaScript)
        {
            var refresh = page.WaitForResponseAsync(r => r.Url.EndsWith("/patient/dashboard") && r.Request.Headers.ContainsKey("hx-request"));
            await page.GetByRole(AriaRole.Link, new() { Name = "Actualiser" }).ClickAsync();
            await refresh;
            Assert.EndsWith("/patient/dashboard", page.Url);
        }

        var download = await page.RunAndWaitForDownloadAsync(() =>
            page.GetByRole(AriaRole.Link, new() { Name = "Télécharger IRM du genou" }).ClickAsync());
        Assert.EndsWith(".pdf", download.SuggestedFilename);
        var saved = Path.Combine(_factory.DataDir, Guid.NewGuid().ToString("N") + ".pdf");
        await download.SaveAsAsync(saved);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(saved));

        await page.GotoAsync("/patient/dashboard");
        Assert.Contains("téléchargé 1 fois", await page.ContentAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Se déconnecter" }).ClickAsync();
        await page.WaitForPageAsync("**/patient");
        await page.GotoAsync("/patient/dashboard");
        Assert.EndsWith("/patient", page.Url);
    }

    [ChromiumFact]
    public async Task A_wrong_password_shows_the_french_message()
    {
        var (p, _) = await PatientWithReportAsync();
        await using var context = await _chromium.PhoneContextAsync(_factory.Address, javaScript: false);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"/patient?key={p.Key}");
        Assert.Equal(Cimef.Site.Access.CredentialGenerator.FormatKey(p.Key), await page.GetByLabel("Clé d'accès (12 caractères)").InputValueAsync());
        await page.GetByLabel("Mot de passe (8 caractères)").FillAsync("zzzz2222");
        await page.GetByRole(AriaRole.Button, new() { Name = "Se connecter" }).ClickAsync();
        Assert.Equal("Clé d'accès ou mot de passe incorrect", await page.GetByRole(AriaRole.Alert).TextContentAsync());
    }

    /// <summary>The budgets hold in every patient language (the bytes are in the test output).</summary>
    [ChromiumTheory]
    [InlineData("fr")]
    [InlineData("wo")]
    [InlineData("en")]
    public async Task Byte_budgets_first_and_repeat_visits(string language)
    {
        var (p, _) = await PatientWithReportAsync();
        var b = await PortalBudget.MeasureAsync(_chromium, _factory.Address, p, language);
        _output.WriteLine($"{language}: login {b.LoginFirst}/{b.LoginRepeat} B, dashboard {b.DashboardFirst}/{b.DashboardRepeat} B, history {b.HistoryFirst} B");
        Assert.True(b.LoginFirst <= 14 * 1024, $"{language}: login first visit {b.LoginFirst} B");
        Assert.True(b.LoginRepeat <= 8 * 1024, $"{language}: login repeat visit {b.LoginRepeat} B");
        Assert.True(b.DashboardFirst <= 40 * 1024, $"{language}: dashboard first visit {b.DashboardFirst} B:\n{b.DashboardFirstDetail}");
        Assert.Contains("htmx.min.js", b.DashboardFirstDetail);
        Assert.True(b.DashboardRepeat <= 8 * 1024, $"{language}: dashboard repeat visit {b.DashboardRepeat} B");
        Assert.True(b.HistoryFirst <= 14 * 1024, $"{language}: history first visit {b.HistoryFirst} B:\n{b.HistoryFirstDetail}");
        Assert.Contains("portal-more", b.HistoryFirstDetail);
    }

    [ChromiumFact]
    public async Task Login_page_and_dashboard_pass_axe_core()
    {
        var (p, _) = await PatientWithReportAsync();
        await using var context = await _chromium.PhoneContextAsync(_factory.Address, bypassCsp: true);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/patient");
        AssertNoViolations(await page.RunAxe(), "login");

        await page.GetByLabel("Clé d'accès (12 caractères)").FillAsync(p.Key);
        await page.GetByLabel("Mot de passe (8 caractères)").FillAsync("zzzz2222");
        await page.GetByRole(AriaRole.Button, new() { Name = "Se connecter" }).ClickAsync();
        await page.GetByRole(AriaRole.Alert).WaitForAsync();
        AssertNoViolations(await page.RunAxe(), "login with error");

        await LoginAsync(page, p);
        AssertNoViolations(await page.RunAxe(), "dashboard");
    }

    private static void AssertNoViolations(Deque.AxeCore.Commons.AxeResult result, string where) =>
        Assert.True(result.Violations.Length == 0,
            $"{where}: " + string.Join("; ", result.Violations.Select(v => $"{v.Id}: {v.Help} ({string.Join(", ", v.Nodes.Select(n => n.Html))})")));
}
