using Cimef.Site.Languages;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// Bytes a phone browser transfers for the patient pages, first and repeat visits (used by the browser test and the
/// bench), in one of the patient languages: the first visit opens <c>/patient?lang=…</c>, the choice then rides on its cookie.
/// </summary>
public static class PortalBudget
{
    public sealed record Bytes(long LoginFirst, long LoginRepeat, long DashboardFirst, long DashboardRepeat, string DashboardFirstDetail,
        long HistoryFirst, string HistoryFirstDetail);

    public static async Task<Bytes> MeasureAsync(ChromiumFixture chromium, string address, TestPatient p, string language = PatientLanguages.French)
    {
        await using var context = await chromium.PhoneContextAsync(address);
        var page = await context.NewPageAsync();
        var meter = await TransferMeter.AttachAsync(page);
        await page.GotoAsync(language == PatientLanguages.French ? "/patient" : "/patient?lang=" + language, new() { WaitUntil = WaitUntilState.NetworkIdle });
        var loginFirst = meter.Bytes;
        meter.Reset();
        await page.GotoAsync("/patient", new() { WaitUntil = WaitUntilState.NetworkIdle });
        var loginRepeat = meter.Bytes;
        await LoginAsync(page, p, language);

        // Dashboard first visit: a new browser (empty cache) holding the session cookie.
        await using var fresh = await SignedInAsync(chromium, address, context);
        var dashboard = await fresh.NewPageAsync();
        var dashboardMeter = await TransferMeter.AttachAsync(dashboard);
        await dashboard.GotoAsync("/patient/dashboard", new() { WaitUntil = WaitUntilState.NetworkIdle });
        if (!dashboard.Url.EndsWith("/patient/dashboard")) throw new InvalidOperationException("The session cookie did not open the dashboard.");
        if (await dashboard.GetAttributeAsync("html", "lang") != language) throw new InvalidOperationException($"The dashboard is not in '{language}'.");
        var dashboardFirst = dashboardMeter.Bytes;
        var detail = string.Join("\n", dashboardMeter.Urls);
        dashboardMeter.Reset();
        await dashboard.GotoAsync("/patient/dashboard", new() { WaitUntil = WaitUntilState.NetworkIdle });
        var dashboardRepeat = dashboardMeter.Bytes;

        // « Historique de mon accès », first visit: another empty cache, the same session.
        await using var historyContext = await SignedInAsync(chromium, address, context);
        var history = await historyContext.NewPageAsync();
        var historyMeter = await TransferMeter.AttachAsync(history);
        await history.GotoAsync("/patient/history", new() { WaitUntil = WaitUntilState.NetworkIdle });
        if (!history.Url.EndsWith("/patient/history")) throw new InvalidOperationException("The session cookie did not open the history.");
        return new Bytes(loginFirst, loginRepeat, dashboardFirst, dashboardRepeat, detail, historyMeter.Bytes, string.Join("\n", historyMeter.Urls));
    }

    /// <summary>A new browser context (empty cache) holding <paramref name="signedIn"/>'s cookies.</summary>
    /// <summary>A fresh phone (empty cache) holding the session cookies of <paramref name="signedIn"/>.</summary>
    internal static async Task<IBrowserContext> SignedInAsync(ChromiumFixture chromium, string address, IBrowserContext signedIn, bool javaScript = true)
    {
        var fresh = await chromium.PhoneContextAsync(address, javaScript);
        await fresh.AddCookiesAsync((await signedIn.CookiesAsync()).Select(c => new Cookie
        {
            Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path, Secure = c.Secure, HttpOnly = c.HttpOnly, SameSite = c.SameSite,
        }));
        return fresh;
    }

    /// <summary>Logs in through the form, finding its fields by their labels in <paramref name="language"/> (the page's current one).</summary>
    public static async Task LoginAsync(IPage page, TestPatient p, string language = PatientLanguages.French)
    {
        var culture = PatientLanguages.Culture(language);
        await page.GotoAsync("/patient");
        // As typed on a phone: lower case with dashes.
        await page.GetByLabel(PatientText.Get("login_key_label", culture)).FillAsync($"{p.Key[..4]}-{p.Key[4..8]}-{p.Key[8..]}".ToLowerInvariant());
        await page.GetByLabel(PatientText.Get("login_password_label", culture)).FillAsync(p.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = PatientText.Get("login_button", culture) }).ClickAsync();
        await page.WaitForPageAsync("**/patient/dashboard");
    }
}
