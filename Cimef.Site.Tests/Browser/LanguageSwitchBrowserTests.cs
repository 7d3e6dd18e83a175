using Cimef.Site.Languages;
using Cimef.Site.Tests.Infrastructure;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// « Français · Wolof · English » on a 360×640 phone in Chromium: the switch on the login page, a login in that
/// language, the switch again on the dashboard; axe-core clean in each language and a screenshot of each page
/// (portal-login-wo/en, portal-dashboard-wo/en; written to Browser/screenshots/ with CIMEF_SCREENSHOTS=update).
/// </summary>
public class LanguageSwitchBrowserTests : IClassFixture<KestrelFactory>, IClassFixture<ChromiumFixture>
{
    private readonly KestrelFactory _factory;
    private readonly ChromiumFixture _chromium;
    private readonly JourneyScreens _screens;

    public LanguageSwitchBrowserTests(KestrelFactory factory, ChromiumFixture chromium, ITestOutputHelper output)
    {
        _factory = factory;
        _chromium = chromium;
        _screens = new JourneyScreens(output.WriteLine);
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    [ChromiumTheory]
    [InlineData("wo", "Wolof")]
    [InlineData("en", "English")]
    public async Task Switch_on_the_login_page_and_the_dashboard_with_axe_core_clean(string language, string name)
    {
        _ = _factory.Address;
        var p = await _factory.Data.PatientAsync("Aminata Diop");
        await _factory.Data.ReportAsync(p, "IRM du genou droit", content: Cimef.Site.Cli.DemoSeed.MinimalPdf("Compte rendu"));
        Directory.CreateDirectory(JourneyScreens.OutputDir);
        var culture = PatientLanguages.Culture(language);
        await using var context = await _chromium.PhoneContextAsync(_factory.Address, bypassCsp: true);
        var page = await context.NewPageAsync();

        await _screens.StepAsync($"portal-login-{language}", page, async () =>
        {
            await page.GotoAsync("/patient");
            Assert.Equal("fr", await page.GetAttributeAsync("html", "lang"));
            await page.GetByRole(AriaRole.Navigation, new() { Name = "Langue" }).GetByRole(AriaRole.Link, new() { Name = name }).ClickAsync();
            await page.WaitForPageAsync($"**/patient?lang={language}");
            Assert.Equal(language, await page.GetAttributeAsync("html", "lang"));
            Assert.Equal(PatientText.Get("login_heading", culture), await page.Locator("h1").TextContentAsync());
            Assert.Equal("true", await page.GetByRole(AriaRole.Link, new() { Name = name }).GetAttributeAsync("aria-current"));
            // The live hint speaks the language too (its words come from the page's data-* attributes).
            await page.GetByLabel(PatientText.Get("login_key_label", culture)).FillAsync("abcde");
            Assert.Equal(PatientText.Get("login_js_count", culture).Replace("{0}", "5").Replace("{1}", "12"), await page.Locator("#key-hint").TextContentAsync());
            await page.GetByLabel(PatientText.Get("login_key_label", culture)).FillAsync("");
            AssertNoViolations(await page.RunAxe(), $"login {language}");
        });

        await PortalBudget.LoginAsync(page, p, language);
        // From the dashboard: to French and back, as a patient would; each is a plain link to the same page.
        await page.GetByRole(AriaRole.Link, new() { Name = "Français" }).ClickAsync();
        await page.WaitForPageAsync("**/patient/dashboard?lang=fr");
        Assert.Equal("fr", await page.GetAttributeAsync("html", "lang"));
        await _screens.StepAsync($"portal-dashboard-{language}", page, async () =>
        {
            await page.GetByRole(AriaRole.Link, new() { Name = name }).ClickAsync();
            await page.WaitForPageAsync($"**/patient/dashboard?lang={language}");
            Assert.Equal(language, await page.GetAttributeAsync("html", "lang"));
            Assert.Equal(PatientText.Get("dashboard_hello", culture).Replace("{0}", "Aminata Diop"), await page.Locator("h1").TextContentAsync());
            await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = PatientText.Get("reports_download", culture) + " IRM du genou droit" })).ToBeVisibleAsync();
            AssertNoViolations(await page.RunAxe(), $"dashboard {language}");
        });
        Assert.Equal(language, await _factory.WithDbAsync(db => db.Patients.Where(x => x.Id == p.PatientId).Select(x => x.Language).SingleAsync()));
    }

    private static void AssertNoViolations(Deque.AxeCore.Commons.AxeResult result, string where) =>
        Assert.True(result.Violations.Length == 0,
            $"{where}: " + string.Join("; ", result.Violations.Select(v => $"{v.Id}: {v.Help} ({string.Join(", ", v.Nodes.Select(n => n.Html))})")));
}
