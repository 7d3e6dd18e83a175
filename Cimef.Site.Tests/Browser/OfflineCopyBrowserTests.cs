using Cimef.Site.Tests.Infrastructure;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// « Garder sur ce téléphone » on a 360×640 phone in Chromium (issue 15): a kept report opens with no network; logout
/// with « Effacer mes copies » erases it and the service worker no longer answers it; a second patient on the same
/// phone cannot open the first one's kept copy; axe-core; the README's screenshot (portal-offline-copy).
/// </summary>
public class OfflineCopyBrowserTests : IClassFixture<KestrelFactory>, IClassFixture<ChromiumFixture>
{
    private readonly KestrelFactory _factory;
    private readonly ChromiumFixture _chromium;
    private readonly JourneyScreens _screens;

    public OfflineCopyBrowserTests(KestrelFactory factory, ChromiumFixture chromium, ITestOutputHelper output)
    {
        _factory = factory;
        _chromium = chromium;
        _screens = new JourneyScreens(output.WriteLine);
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    private async Task<(TestPatient Patient, int Report, byte[] Bytes)> PatientWithReportAsync(string name)
    {
        _ = _factory.Address;
        var p = await _factory.Data.PatientAsync(name);
        var bytes = Cimef.Site.Cli.DemoSeed.MinimalPdf("Compte rendu " + name);
        return (p, await _factory.Data.ReportAsync(p, "IRM du genou", content: bytes), bytes);
    }

    /// <summary>Logs in and waits until the service worker controls the dashboard (the worker claims it once active).</summary>
    private static async Task<string> DashboardAsync(IPage page, TestPatient p)
    {
        await PortalBudget.LoginAsync(page, p);
        await page.WaitForFunctionAsync("() => navigator.serviceWorker.controller !== null");
        return (await page.Locator("#logout").GetAttributeAsync("data-cache"))!;
    }

    private static async Task KeepAsync(IPage page)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Garder sur ce téléphone" }).ClickAsync();
        await Assertions.Expect(page.GetByText("copie enregistrée sur ce téléphone")).ToBeVisibleAsync();
    }

    /// <summary>The report as the page's fetch gets it: its bytes, or null when the request fails (no network, no copy).</summary>
    private static async Task<byte[]?> FetchAsync(IPage page, int report)
    {
        var bytes = await page.EvaluateAsync<int[]?>(
            "url => fetch(url).then(r => r.ok ? r.arrayBuffer() : null).then(b => b && Array.from(new Uint8Array(b))).catch(() => null)",
            $"/patient/reports/{report}?view=1");
        return bytes?.Select(b => (byte)b).ToArray();
    }

    private static Task<bool> CacheExistsAsync(IPage page, string name) => page.EvaluateAsync<bool>("name => caches.has(name)", name);

    [ChromiumFact]
    public async Task A_kept_report_opens_offline_and_is_gone_after_logout_with_erase()
    {
        var (p, report, bytes) = await PatientWithReportAsync("Aminata Diop");
        await using var context = await _chromium.PhoneContextAsync(_factory.Address);
        var page = await context.NewPageAsync();
        var cache = await DashboardAsync(page, p);
        Assert.True(await page.GetByRole(AriaRole.Button, new() { Name = "Se déconnecter" }).IsVisibleAsync());
        Assert.False(await CacheExistsAsync(page, cache)); // nothing stored before the patient asks

        await _screens.StepAsync("portal-offline-copy", page, async () =>
        {
            await KeepAsync(page);
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Effacer mes copies" })).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Garder mes copies" })).ToBeVisibleAsync();
            Assert.False(await page.GetByRole(AriaRole.Button, new() { Name = "Se déconnecter" }).IsVisibleAsync());
            await page.Locator("#month-total").EvaluateAsync("e => e.scrollIntoView()");
        });

        await context.SetOfflineAsync(true);
        Assert.Equal(bytes, await FetchAsync(page, report)); // answered by the service worker from this patient's copy
        await context.SetOfflineAsync(false);

        await page.GetByRole(AriaRole.Button, new() { Name = "Effacer mes copies" }).ClickAsync();
        await page.WaitForPageAsync("**/patient");
        // /patient/ (the login page again) is inside the worker's scope: what the worker does there, it would do anywhere.
        await page.GotoAsync("/patient/");
        await page.WaitForFunctionAsync("() => navigator.serviceWorker.controller !== null");
        Assert.False(await CacheExistsAsync(page, cache));
        await context.SetOfflineAsync(true);
        Assert.Null(await FetchAsync(page, report));
        await context.SetOfflineAsync(false);
    }

    [ChromiumFact]
    public async Task A_second_patient_on_the_same_phone_cannot_open_the_first_ones_kept_copy()
    {
        var (mother, report, bytes) = await PatientWithReportAsync("Awa Ndiaye");
        var (child, _, _) = await PatientWithReportAsync("Moussa Ndiaye");
        await using var context = await _chromium.PhoneContextAsync(_factory.Address);
        var page = await context.NewPageAsync();
        var motherCache = await DashboardAsync(page, mother);
        await KeepAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "Garder mes copies" }).ClickAsync();
        await page.WaitForPageAsync("**/patient");

        var childCache = await DashboardAsync(page, child);
        Assert.NotEqual(motherCache, childCache);
        Assert.True(await CacheExistsAsync(page, motherCache)); // the mother's copy is still on the phone…
        await Assertions.Expect(page.GetByText("copie enregistrée sur ce téléphone")).ToBeHiddenAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Garder sur ce téléphone" })).ToBeVisibleAsync();
        await context.SetOfflineAsync(true);
        Assert.Null(await FetchAsync(page, report)); // …but the worker never hands it to the child's session
        await context.SetOfflineAsync(false);
        Assert.Null(await FetchAsync(page, report)); // and the server says 404

        // Back to the mother: her kept copy opens offline again.
        await page.GetByRole(AriaRole.Button, new() { Name = "Se déconnecter" }).ClickAsync();
        await page.WaitForPageAsync("**/patient");
        await DashboardAsync(page, mother);
        await Assertions.Expect(page.GetByText("copie enregistrée sur ce téléphone")).ToBeVisibleAsync();
        await context.SetOfflineAsync(true);
        Assert.Equal(bytes, await FetchAsync(page, report));
        await context.SetOfflineAsync(false);
    }

    [ChromiumFact]
    public async Task The_dashboard_with_a_kept_copy_passes_axe_core()
    {
        var (p, _, _) = await PatientWithReportAsync("Fatou Sarr");
        await using var context = await _chromium.PhoneContextAsync(_factory.Address, bypassCsp: true);
        var page = await context.NewPageAsync();
        await DashboardAsync(page, p);
        await KeepAsync(page);
        var result = await page.RunAxe();
        Assert.True(result.Violations.Length == 0,
            string.Join("; ", result.Violations.Select(v => $"{v.Id}: {v.Help} ({string.Join(", ", v.Nodes.Select(n => n.Html))})")));
    }
}
