using System.Security.Claims;
using Cimef.Site.Tests.Infrastructure;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;
using Cimef.Site.Reports;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// « Garder sur ce téléphone » on a 360×640 phone in Chromium: a kept report opens with no network; logout
/// with « Effacer mes copies » erases it and the service worker no longer answers it; a second patient on the same
/// phone cannot open the first one's kept copy; while the server answers, a kept report is the server's answer (a
/// session that ended gets the login page, a withdrawn report a 410), never the copy; offline the copy opens only while
/// the phone's current-patient marker lives (the server's "no session", the login page and its expiry end it); the
/// next dashboard deletes the copy of a report no longer in the list; axe-core; the README's screenshot (portal-offline-copy).
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
        var cache = (await page.Locator("#logout").GetAttributeAsync("data-cache"))!;
        // The marker names this patient's cache once the service worker has written it.
        await page.WaitForFunctionAsync(
            "name => caches.open('cimef-phone').then(c => c.match('/patient/offline-current')).then(r => r ? r.text() : '').then(t => t.includes(name))", cache);
        return cache;
    }

    /// <summary>
    /// The phone's current-patient marker as the service worker keeps it (<c>{cache, expires}</c> in the cimef-phone
    /// cache), or null: the tests read it to wait for it and move its expiry to the past.
    /// </summary>
    private const string Marker =
        "caches.open('cimef-phone').then(c => c.match('/patient/offline-current')).then(r => r ? r.json() : null)";

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

    /// <summary>What the page's fetch of a report gets while online: its status, whether it was redirected, its bytes.</summary>
    private sealed record Answer(int Status, bool Redirected, byte[] Bytes);

    private static async Task<Answer> FetchOnlineAsync(IPage page, int report)
    {
        var r = await page.EvaluateAsync<System.Text.Json.JsonElement>(
            "url => fetch(url).then(async r => ({ status: r.status, redirected: r.redirected, bytes: Array.from(new Uint8Array(await r.arrayBuffer())) }))",
            $"/patient/reports/{report}?view=1");
        return new Answer(r.GetProperty("status").GetInt32(), r.GetProperty("redirected").GetBoolean(),
            r.GetProperty("bytes").EnumerateArray().Select(b => (byte)b.GetInt32()).ToArray());
    }

    /// <summary>The report paths kept in <paramref name="cache"/> (none when the cache does not exist).</summary>
    private static async Task<string[]> KeptAsync(IPage page, string cache) => await page.EvaluateAsync<string[]>(
        "name => caches.has(name).then(h => h ? caches.open(name).then(c => c.keys()).then(k => k.map(r => new URL(r.url).pathname)) : [])", cache);

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

    [ChromiumFact]
    public async Task Online_a_kept_report_is_the_servers_answer_and_a_session_that_ended_ends_the_offline_copy()
    {
        var (p, report, bytes) = await PatientWithReportAsync("Khady Fall");
        await using var context = await _chromium.PhoneContextAsync(_factory.Address);
        var page = await context.NewPageAsync();
        await DashboardAsync(page, p);
        await KeepAsync(page);
        await context.ClearCookiesAsync(); // the session is gone from the phone, nobody logged out

        await context.SetOfflineAsync(true);
        Assert.Equal(bytes, await FetchAsync(page, report)); // no network, a live marker: the copy
        await context.SetOfflineAsync(false);

        var online = await FetchOnlineAsync(page, report);
        Assert.True(online.Redirected, $"status {online.Status}"); // the server sends the phone to the login page…
        Assert.NotEqual(bytes, online.Bytes); // …and the copy does not stand in for that answer
        await context.SetOfflineAsync(true);
        Assert.Null(await FetchAsync(page, report)); // the server's "no session" ended the marker
        await context.SetOfflineAsync(false);
    }

    [ChromiumFact]
    public async Task Offline_a_kept_copy_opens_only_while_the_marker_lives_the_login_page_and_its_expiry_end_it()
    {
        var (p, report, bytes) = await PatientWithReportAsync("Ndeye Sow");
        await using var context = await _chromium.PhoneContextAsync(_factory.Address);
        var page = await context.NewPageAsync();
        await DashboardAsync(page, p);
        await KeepAsync(page);

        // The marker lasts the patient session's absolute lifetime (Portal:SessionAbsoluteHours, 12 h by default)…
        var expires = await page.EvaluateAsync<double>($"() => {Marker}.then(m => m.expires - Date.now())");
        Assert.InRange(expires, TimeSpan.FromHours(11.9).TotalMilliseconds, TimeSpan.FromHours(12).TotalMilliseconds);
        // …past it, the copy no longer opens.
        await page.EvaluateAsync($$"""
            () => {{Marker}}.then(m => caches.open('cimef-phone')
                .then(c => c.put('/patient/offline-current', new Response(JSON.stringify({ ...m, expires: Date.now() - 1000 })))))
            """);
        await context.SetOfflineAsync(true);
        Assert.Null(await FetchAsync(page, report));
        await context.SetOfflineAsync(false);

        // The next dashboard renews it; the login page (reached here with the session cookie gone) ends it.
        await page.ReloadAsync();
        await page.WaitForFunctionAsync($"() => {Marker}.then(m => m !== null && m.expires > Date.now())");
        await context.SetOfflineAsync(true);
        Assert.Equal(bytes, await FetchAsync(page, report));
        await context.SetOfflineAsync(false);
        await context.ClearCookiesAsync();
        await page.GotoAsync("/patient/");
        await page.WaitForFunctionAsync($"() => {Marker}.then(m => m === null)", null, new() { Timeout = 15_000 });
        await page.WaitForFunctionAsync("() => navigator.serviceWorker.controller !== null");
        await context.SetOfflineAsync(true);
        Assert.Null(await FetchAsync(page, report));
        await context.SetOfflineAsync(false);
    }

    [ChromiumFact]
    public async Task A_report_withdrawn_on_the_staff_side_is_gone_online_and_the_next_dashboard_deletes_its_copy()
    {
        var (p, withdrawn, _) = await PatientWithReportAsync("Mame Diouf");
        var kept = await _factory.Data.ReportAsync(p, "Radiographie du thorax");
        await using var context = await _chromium.PhoneContextAsync(_factory.Address);
        var page = await context.NewPageAsync();
        var cache = await DashboardAsync(page, p);
        foreach (var id in new[] { withdrawn, kept })
        {
            await page.Locator($"[data-keep='/patient/reports/{id}?view=1']").ClickAsync();
            await Assertions.Expect(page.Locator($"[data-keep='/patient/reports/{id}?view=1'] >> xpath=ancestor::article//*[@data-copy]")).ToBeVisibleAsync();
        }
        Assert.Equal(new[] { $"/patient/reports/{kept}", $"/patient/reports/{withdrawn}" }.Order(), (await KeptAsync(page, cache)).Order());

        await _factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<Cimef.Site.Data.CimefDb>();
            var report = await db.PatientReports.SingleAsync(r => r.Id == withdrawn);
            var staff = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "medecin@cimef.sn")], "test"));
            var result = sp.GetRequiredService<ReportPublisher>().Withdraw(report, "erreur de patient", staff);
            Assert.Equal(ReportPublisher.Outcome.StoredInactive, result.Outcome);
            await db.SaveChangesAsync();
        });

        var online = await FetchOnlineAsync(page, withdrawn);
        Assert.Equal(410, online.Status); // « retiré »: the server's answer, not the copy still on the phone

        await page.ReloadAsync(); // an online dashboard without the withdrawn report
        await page.WaitForFunctionAsync(
            "name => caches.open(name).then(c => c.keys()).then(k => k.length === 1)", cache);
        Assert.Equal([$"/patient/reports/{kept}"], await KeptAsync(page, cache));
        await context.SetOfflineAsync(true);
        Assert.Null(await FetchAsync(page, withdrawn));
        await context.SetOfflineAsync(false);
    }
}
