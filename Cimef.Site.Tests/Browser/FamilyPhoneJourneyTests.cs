using System.Globalization;
using Cimef.Site.Languages;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// « Done when », tried as a new user would on a 360×640 phone: a mother switches the portal to Wolof, logs
/// in for herself and for her child from one phone (remembering both keys, then tapping a name and typing only the
/// password), keeps her report for offline reading, puts the phone in airplane mode and opens it; « Fàtte telefon bii »
/// then erases the keys, the sessions and the copies. The README's screenshots (15-…).
/// </summary>
public class FamilyPhoneJourneyTests : IClassFixture<KestrelFactory>, IClassFixture<ChromiumFixture>
{
    private static readonly CultureInfo WolofCulture = CultureInfo.GetCultureInfo("wo");
    private readonly KestrelFactory _factory;
    private readonly ChromiumFixture _chromium;
    private readonly JourneyScreens _screens;

    public FamilyPhoneJourneyTests(KestrelFactory factory, ChromiumFixture chromium, ITestOutputHelper output)
    {
        _factory = factory;
        _chromium = chromium;
        _screens = new JourneyScreens(output.WriteLine);
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    /// <summary>What the Wolof page says (the catalogue is the source of the words; the page must show them).</summary>
    private static string Wo(string name) => PatientText.Get(name, WolofCulture);

    private static async Task FirstLoginRememberedAsync(IPage page, TestPatient p)
    {
        await page.GotoAsync("/patient");
        await page.GetByLabel(Wo("login_key_label")).FillAsync(p.Key.ToLowerInvariant());
        await page.GetByLabel(Wo("login_password_label")).FillAsync(p.Password);
        await page.GetByLabel(Wo("phone_remember")).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = Wo("login_button"), Exact = true }).ClickAsync();
        await page.WaitForPageAsync("**/patient/dashboard");
        Assert.Equal(string.Format(CultureInfo.InvariantCulture, Wo("dashboard_hello"), p.FullName), await page.Locator("h1").TextContentAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = Wo("dashboard_logout"), Exact = true }).ClickAsync();
        await page.WaitForPageAsync("**/patient");
    }

    private static async Task TapAndPasswordAsync(IPage page, TestPatient p, string initials)
    {
        await page.GotoAsync("/patient");
        await page.GetByRole(AriaRole.Link, new() { Name = $"{initials} — …{p.Key[^4..]}" }).ClickAsync();
        await page.GetByLabel(Wo("phone_password_label")).FillAsync(p.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = Wo("phone_submit"), Exact = true }).ClickAsync();
        await page.WaitForPageAsync("**/patient/dashboard");
        Assert.Equal(string.Format(CultureInfo.InvariantCulture, Wo("dashboard_hello"), p.FullName), await page.Locator("h1").TextContentAsync());
    }

    [ChromiumFact]
    public async Task A_mother_in_wolof_logs_in_for_herself_and_her_child_keeps_her_report_and_reads_it_in_airplane_mode()
    {
        _ = _factory.Address;
        var mother = await _factory.Data.PatientAsync("Awa Diop");
        var child = await _factory.Data.PatientAsync("Moussa Diop");
        var pdf = Cimef.Site.Cli.DemoSeed.MinimalPdf("Echographie abdominale - Awa Diop");
        var report = await _factory.Data.ReportAsync(mother, "Échographie abdominale", content: pdf);
        await _factory.Data.ReportAsync(child, "Radiographie du poignet");
        await using var context = await _chromium.PhoneContextAsync(_factory.Address);
        var page = await context.NewPageAsync();

        await _screens.StepAsync("15-wolof-login", page, async () =>
        {
            await page.GotoAsync("/patient");
            await page.GetByRole(AriaRole.Link, new() { Name = "Wolof" }).ClickAsync();
            await page.WaitForPageAsync("**/patient?lang=wo");
            Assert.Equal("wo", await page.Locator("html").GetAttributeAsync("lang"));
            Assert.Equal(1, await page.GetByLabel(Wo("login_key_label")).CountAsync());
        });
        await FirstLoginRememberedAsync(page, mother);
        await FirstLoginRememberedAsync(page, child);

        await _screens.StepAsync("15-wolof-two-keys", page, async () =>
        {
            await page.GotoAsync("/patient");
            Assert.Equal(2, await page.Locator("a[href^='/patient?remembered=']").CountAsync());
        });
        await TapAndPasswordAsync(page, child, "M. D.");
        Assert.Contains("Radiographie du poignet", await page.Locator("#reports").InnerTextAsync());
        Assert.DoesNotContain("Échographie", await page.Locator("#reports").InnerTextAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = Wo("dashboard_logout"), Exact = true }).ClickAsync();
        await page.WaitForPageAsync("**/patient");
        await TapAndPasswordAsync(page, mother, "A. D.");

        await page.WaitForFunctionAsync("() => navigator.serviceWorker.controller !== null");
        await page.GetByRole(AriaRole.Button, new() { Name = Wo("offline_keep").Split(" (")[0] }).ClickAsync();
        await Assertions.Expect(page.GetByText(Wo("offline_kept"))).ToBeVisibleAsync();

        await _screens.StepAsync("15-wolof-airplane-mode", page, async () =>
        {
            await context.SetOfflineAsync(true);
            Assert.False(await page.EvaluateAsync<bool>("() => navigator.onLine"));
            // « Ubbi duppi bi » opens the kept copy: the service worker answers it from the phone with no network.
            var href = await page.GetByRole(AriaRole.Link, new() { Name = Wo("offline_open") }).GetAttributeAsync("href");
            var bytes = await page.EvaluateAsync<int[]?>(
                "url => fetch(url).then(r => r.ok ? r.arrayBuffer() : null).then(b => b && Array.from(new Uint8Array(b))).catch(() => null)", href);
            Assert.Equal(pdf, bytes?.Select(b => (byte)b).ToArray());
            await page.GetByText(Wo("offline_kept")).ScrollIntoViewIfNeededAsync();
        });
        await context.SetOfflineAsync(false);

        // « Fàtte telefon bii »: keys, sessions and kept copies are gone (Clear-Site-Data erases Cache Storage).
        await page.GetByRole(AriaRole.Button, new() { Name = Wo("phone_forget"), Exact = true }).ClickAsync();
        await page.WaitForPageAsync("**/patient");
        Assert.Equal(0, await page.Locator("a[href^='/patient?remembered=']").CountAsync());
        Assert.Empty(await page.EvaluateAsync<string[]>("() => caches.keys()"));
        await context.SetOfflineAsync(true);
        var after = await page.EvaluateAsync<bool>("url => fetch(url).then(r => r.ok).catch(() => false)", $"/patient/reports/{report}?view=1");
        Assert.False(after);
        await context.SetOfflineAsync(false);
    }
}
