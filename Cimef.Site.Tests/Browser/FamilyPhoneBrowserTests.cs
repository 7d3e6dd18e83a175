using Cimef.Site.Tests.Infrastructure;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Xunit.Abstractions;
using Cimef.Site.Portal;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// One phone, several patients on a 360×640 phone in Chromium: a mother remembers her key and her child's,
/// logs in for each by tapping a name and typing only the password (with and without JavaScript), then « Oublier ce
/// téléphone » clears both and ends the session opened from the phone; axe-core on the login page with remembered
/// keys; the README's screenshot (portal-remembered-keys, see <see cref="JourneyScreens"/>).
/// </summary>
public class FamilyPhoneBrowserTests : IClassFixture<KestrelFactory>, IClassFixture<ChromiumFixture>
{
    private readonly KestrelFactory _factory;
    private readonly ChromiumFixture _chromium;
    private readonly JourneyScreens _screens;

    public FamilyPhoneBrowserTests(KestrelFactory factory, ChromiumFixture chromium, ITestOutputHelper output)
    {
        _factory = factory;
        _chromium = chromium;
        _screens = new JourneyScreens(output.WriteLine);
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    private static string Button(TestPatient p, string initials) => $"{initials} — …{p.Key[^4..]}";

    /// <summary>Types the key and the password once, with « Se souvenir de cette clé sur ce téléphone » ticked, then logs out.</summary>
    private static async Task RememberAsync(IPage page, TestPatient p)
    {
        await page.GotoAsync("/patient");
        await page.GetByLabel("Clé d'accès (12 caractères)").FillAsync(p.Key.ToLowerInvariant());
        await page.GetByLabel("Mot de passe (8 caractères)").FillAsync(p.Password);
        await page.GetByLabel("Se souvenir de cette clé sur ce téléphone").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Se connecter" }).ClickAsync();
        await page.WaitForPageAsync("**/patient/dashboard");
        await LogoutAsync(page);
    }

    private static async Task LogoutAsync(IPage page)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Se déconnecter" }).ClickAsync();
        await page.WaitForPageAsync("**/patient");
    }

    /// <summary>Taps the remembered key, types only the password, lands on the dashboard of that patient.</summary>
    private static async Task TapAndLoginAsync(IPage page, string button, TestPatient p)
    {
        await page.GotoAsync("/patient");
        await page.GetByRole(AriaRole.Link, new() { Name = button }).ClickAsync();
        await page.WaitForPageAsync("**/patient?remembered=*");
        Assert.Equal(0, await page.GetByLabel("Clé d'accès (12 caractères)").CountAsync());
        await page.GetByLabel("Mot de passe (8 caractères)").FillAsync(p.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Se connecter" }).ClickAsync();
        await page.WaitForPageAsync("**/patient/dashboard");
        Assert.Equal($"Bonjour {p.FullName}", await page.Locator("h1").TextContentAsync());
    }

    [ChromiumTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_mother_logs_in_for_herself_and_her_child_by_tapping_then_forgets_the_phone(bool javaScript)
    {
        _ = _factory.Address;
        var mother = await _factory.Data.PatientAsync("Awa Diop");
        var child = await _factory.Data.PatientAsync("Moussa Ndiaye");
        await using var context = await _chromium.PhoneContextAsync(_factory.Address, javaScript);
        var page = await context.NewPageAsync();
        await RememberAsync(page, mother);
        await RememberAsync(page, child);

        await _screens.StepAsync("portal-remembered-keys", page, screenshot: javaScript, step: async () =>
        {
            await page.GotoAsync("/patient");
            Assert.Equal(1, await page.GetByRole(AriaRole.Link, new() { Name = Button(mother, "A. D.") }).CountAsync());
            Assert.Equal(1, await page.GetByRole(AriaRole.Link, new() { Name = Button(child, "M. N.") }).CountAsync());
            var html = await page.ContentAsync();
            Assert.DoesNotContain(mother.Key, html);
            Assert.DoesNotContain(child.Key, html);
        });

        await TapAndLoginAsync(page, Button(child, "M. N."), child);
        await LogoutAsync(page);
        await TapAndLoginAsync(page, Button(mother, "A. D."), mother);

        await page.GetByRole(AriaRole.Button, new() { Name = "Oublier ce téléphone" }).ClickAsync();
        await page.WaitForPageAsync("**/patient");
        Assert.Contains("Ce téléphone a été oublié", await page.Locator("main").InnerTextAsync());
        Assert.Equal(0, await page.Locator("a[href^='/patient?remembered=']").CountAsync());
        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Oublier ce téléphone" }).CountAsync());
        var cookies = await context.CookiesAsync();
        Assert.DoesNotContain(cookies, c => c.Name is PhoneCookies.CookieName or PatientSessions.CookieName);

        await page.GotoAsync("/patient/dashboard");
        Assert.EndsWith("/patient", page.Url);
        var open = await _factory.WithDbAsync(db => db.PatientSessions
            .CountAsync(s => (s.PatientAccessId == mother.AccessId || s.PatientAccessId == child.AccessId) && s.EndedAt == null));
        Assert.Equal(0, open);
        Assert.Equal(1, await _factory.WithDbAsync(db => db.PatientSessions
            .CountAsync(s => s.PatientAccessId == mother.AccessId && s.EndReason == Cimef.Site.Pages.Portal.ForgetModel.EndReason)));
    }

    [ChromiumFact]
    public async Task The_login_page_with_remembered_keys_passes_axe_core()
    {
        _ = _factory.Address;
        var mother = await _factory.Data.PatientAsync("Awa Diop");
        var child = await _factory.Data.PatientAsync("Moussa Ndiaye");
        await using var context = await _chromium.PhoneContextAsync(_factory.Address, bypassCsp: true);
        var page = await context.NewPageAsync();
        await RememberAsync(page, mother);
        await RememberAsync(page, child);

        foreach (var url in new[] { "/patient", "/patient?remembered=2" })
        {
            await page.GotoAsync(url);
            Assert.True(await page.Locator("a[href^='/patient?remembered='], input[name='remembered']").CountAsync() > 0, url);
            var result = await page.RunAxe();
            Assert.True(result.Violations.Length == 0,
                url + ": " + string.Join("; ", result.Violations.Select(v => $"{v.Id}: {v.Help} ({string.Join(", ", v.Nodes.Select(n => n.Html))})")));
        }
    }
}
