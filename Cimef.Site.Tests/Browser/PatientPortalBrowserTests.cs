using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
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

    public PatientPortalBrowserTests(KestrelFactory factory, ChromiumFixture chromium)
    {
        _factory = factory;
        _chromium = chromium;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    private async Task<(PortalData.TestPatient Patient, byte[] Report)> PatientWithReportAsync()
    {
        _ = _factory.Address;
        var p = await _factory.CreatePatientAsync();
        var bytes = Cimef.Site.Cli.DemoSeed.MinimalPdf("Compte rendu " + p.FullName);
        await _factory.AddReportAsync(p, "IRM du genou", content: bytes);
        return (p, bytes);
    }

    private static async Task LoginAsync(IPage page, PortalData.TestPatient p)
    {
        await page.GotoAsync("/patient");
        // As typed on a phone: lower case with dashes.
        await page.GetByLabel("Clé d'accès (12 caractères)").FillAsync($"{p.Key[..4]}-{p.Key[4..8]}-{p.Key[8..]}".ToLowerInvariant());
        await page.GetByLabel("Mot de passe (8 caractères)").FillAsync(p.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Se connecter" }).ClickAsync();
        await page.WaitForURLAsync("**/patient/dashboard");
    }

    [Theory]
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
        await page.WaitForURLAsync("**/patient");
        await page.GotoAsync("/patient/dashboard");
        Assert.EndsWith("/patient", page.Url);
    }

    [Fact]
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

    [Fact]
    public async Task Byte_budgets_first_and_repeat_visits()
    {
        var (p, _) = await PatientWithReportAsync();
        await using var context = await _chromium.PhoneContextAsync(_factory.Address);
        var page = await context.NewPageAsync();
        var meter = await TransferMeter.AttachAsync(page);

        await page.GotoAsync("/patient", new() { WaitUntil = WaitUntilState.NetworkIdle });
        var loginFirst = meter.Bytes;
        meter.Reset();
        await page.GotoAsync("/patient", new() { WaitUntil = WaitUntilState.NetworkIdle });
        var loginRepeat = meter.Bytes;
        await LoginAsync(page, p);

        // Dashboard first visit: a new browser (empty cache) holding the session cookie.
        await using var fresh = await _chromium.PhoneContextAsync(_factory.Address);
        await fresh.AddCookiesAsync((await context.CookiesAsync()).Select(c => new Cookie
        {
            Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path, Secure = c.Secure, HttpOnly = c.HttpOnly, SameSite = c.SameSite,
        }));
        var dashboardPage = await fresh.NewPageAsync();
        var dashboardMeter = await TransferMeter.AttachAsync(dashboardPage);
        await dashboardPage.GotoAsync("/patient/dashboard", new() { WaitUntil = WaitUntilState.NetworkIdle });
        Assert.EndsWith("/patient/dashboard", dashboardPage.Url);
        var dashboardFirst = dashboardMeter.Bytes;
        var firstUrls = string.Join("\n", dashboardMeter.Urls);
        dashboardMeter.Reset();
        await dashboardPage.GotoAsync("/patient/dashboard", new() { WaitUntil = WaitUntilState.NetworkIdle });
        var dashboardRepeat = dashboardMeter.Bytes;

        Assert.True(loginFirst <= 14 * 1024, $"login first visit {loginFirst} B");
        Assert.True(loginRepeat <= 8 * 1024, $"login repeat visit {loginRepeat} B");
        Assert.True(dashboardFirst <= 40 * 1024, $"dashboard first visit {dashboardFirst} B:\n{firstUrls}");
        Assert.Contains("htmx.min.js", firstUrls);
        Assert.True(dashboardRepeat <= 8 * 1024, $"dashboard repeat visit {dashboardRepeat} B");
    }

    [Fact]
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
