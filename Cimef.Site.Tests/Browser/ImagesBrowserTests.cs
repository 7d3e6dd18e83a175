using System.Diagnostics;
using System.Text.Json;
using Cimef.Site.Imaging;
using Cimef.Site.Tests.Imaging;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// The patient's images on a 360×640 phone, as a new user meets them: a study sent to the test PACS with the invoice
/// number, the report published, « Voir les images » from the dashboard; then the images page again on a fresh phone
/// over Chromium's throttled 3G profile, measuring what it costs (page HTML + CSS, each image, time to the first image).
/// Also without JavaScript: the page and its lazy images need none.
/// </summary>
public sealed class ImagesBrowserTests(ImagingFixture fixture, ChromiumFixture chromium, ITestOutputHelper output)
    : IClassFixture<ImagingFixture>, IClassFixture<ChromiumFixture>
{
    private const string ScanName = "16-patient-images-phone";

    /// <summary>Chromium DevTools' "Slow 3G" preset: 400 ms RTT × 5, 500 kbit/s × 0.8 each way.</summary>
    private static readonly object Slow3G = new { offline = false, latency = 2000, downloadThroughput = 50_000, uploadThroughput = 50_000 };

    /// <summary>Chromium DevTools' "3G" (formerly "Fast 3G") preset: 150 ms RTT × 3.75, 1.6 Mbit/s × 0.9 down.</summary>
    private static readonly object Fast3G = new { offline = false, latency = 562.5, downloadThroughput = 180_000, uploadThroughput = 84_375 };

    [ChromiumFact]
    public async Task A_new_patient_opens_the_exams_images_on_a_phone_within_the_byte_budget_on_3g()
    {
        if (OrthancServer.MissingReason is { } missing)
        {
            output.WriteLine("Skipped: " + missing);
            return;
        }
        var factory = fixture.Factory;
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
        var address = factory.Address;
        var p = await factory.Data.PatientAsync("Awa Diop");
        var (_, orthancId) = await fixture.SendStudyAsync(new DicomStudySpec(p.InvoiceNumber, PatientName: "DIOP^Awa", StudyDescription: "Scanner thoracique",
            Series: 2, InstancesPerSeries: 6, Width: 512, Height: 512, Noise: true));
        var study = await fixture.LinkAsync(orthancId);
        await factory.Data.ReportAsync(p, "Scanner thoracique");
        var screens = new JourneyScreens(output.WriteLine);

        // The walk: login, dashboard, « Voir les images (12) ».
        await using var context = await chromium.PhoneContextAsync(address);
        var page = await context.NewPageAsync();
        await PortalBudget.LoginAsync(page, p);
        await page.GetByRole(AriaRole.Link, new() { Name = "Voir les images (12)" }).ClickAsync();
        await page.WaitForPageAsync($"**/patient/images/{study.Id}");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { NameRegex = new System.Text.RegularExpressions.Regex("Télécharger l'examen complet \\(DICOM, .+\\)") })).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.shots img')].slice(0, 1).every(i => i.complete && i.naturalWidth > 0)");
        await screens.StepAsync(ScanName, page, () => Task.CompletedTask);

        // A fresh phone (empty cache, the same session) over throttled 3G: bytes and time to the first image.
        foreach (var (profile, conditions) in new[] { ("Slow 3G", Slow3G), ("3G", Fast3G) })
        {
            await using var phone = await PortalBudget.SignedInAsync(chromium, address, context);
            var tab = await phone.NewPageAsync();
            var meter = await TransferMeter.AttachAsync(tab);
            var cdp = await phone.NewCDPSessionAsync(tab);
            await cdp.SendAsync("Network.enable");
            await cdp.SendAsync("Network.emulateNetworkConditions", JsonSerializer.SerializeToElement(conditions)
                .EnumerateObject().ToDictionary(o => o.Name, o => (object)o.Value));
            var watch = Stopwatch.StartNew();
            await tab.GotoAsync($"/patient/images/{study.Id}", new() { WaitUntil = WaitUntilState.Commit });
            await tab.WaitForFunctionAsync("() => { const i = document.querySelector('.shots img'); return i && i.complete && i.naturalWidth > 0; }",
                null, new() { PollingInterval = 50 });
            var firstImage = await tab.EvaluateAsync<double>(
                "() => performance.getEntriesByType('resource').filter(e => /\\/i\\/[0-9a-f-]{44}$/.test(e.name)).map(e => e.responseEnd).sort((a, b) => a - b)[0]");
            await tab.WaitForLoadStateAsync(LoadState.NetworkIdle);
            var entries = meter.Urls;
            long Sum(Func<string, bool> which) => entries.Where(which).Sum(e => long.Parse(e.Split(' ')[^2]));
            var html = Sum(e => e.Contains($"/patient/images/{study.Id} "));
            var css = Sum(e => e.Contains(".css"));
            var images = entries.Where(e => e.Contains("/i/") && !e.Contains("?t=1")).Select(e => long.Parse(e.Split(' ')[^2])).ToList();
            var thumbs = entries.Where(e => e.Contains("?t=1")).Select(e => long.Parse(e.Split(' ')[^2])).ToList();
            output.WriteLine($"{profile}: page HTML {html} B + CSS {css} B; first image after {firstImage:0} ms (wall {watch.ElapsedMilliseconds} ms); " +
                $"{images.Count} images loaded eagerly, {(images.Count == 0 ? 0 : images.Max())} B max, {images.Sum()} B; {thumbs.Count} thumbnails {thumbs.Sum()} B; total {meter.Bytes} B");
            Assert.True(html + css <= 14 * 1024, $"page HTML + CSS {html + css} B");
            Assert.All(images, b => Assert.True(b <= StudyImages.MaxBytes + 1024, $"an image of {b} B")); // + headers
            Assert.InRange(images.Count, 1, 12); // lazy: what the viewport needs first
            var widths = await tab.EvaluateAsync<int[]>("() => [...document.querySelectorAll('.shots img')].filter(i => i.complete && i.naturalWidth).map(i => i.naturalWidth)");
            Assert.All(widths, w => Assert.True(w <= StudyImages.MaxWidth));
        }

        // No JavaScript: the same page, its images load by themselves.
        await using var plain = await PortalBudget.SignedInAsync(chromium, address, context, javaScript: false);
        var noScript = await plain.NewPageAsync();
        await noScript.GotoAsync($"/patient/images/{study.Id}");
        await noScript.WaitForPageAsync($"**/patient/images/{study.Id}");
        await Assertions.Expect(noScript.Locator(".shots img").First).ToBeVisibleAsync();
        Assert.Equal(12, await noScript.Locator(".shots img").CountAsync());
    }
}
