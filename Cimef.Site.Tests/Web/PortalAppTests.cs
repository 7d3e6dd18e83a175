using System.Buffers.Binary;
using System.Net;
using System.Text.Json;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;

namespace Cimef.Site.Tests.Web;

/// <summary>
/// The installable patient app: manifest, icons and service worker are same-origin, anonymous, with the
/// right types and caching; the patient layout links them; report downloads stay no-store.
/// </summary>
public class PortalAppTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public PortalAppTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
    }

    [Fact]
    public async Task The_manifest_names_cimef_with_the_patient_scope_and_same_origin_icons()
    {
        var response = await _factory.NewClient().GetAsync("/patient/manifest.webmanifest");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/manifest+json", response.Content.Headers.ContentType!.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var m = json.RootElement;
        Assert.Equal("CIMEF", m.GetProperty("name").GetString());
        Assert.Equal("CIMEF", m.GetProperty("short_name").GetString());
        Assert.Equal("/patient/", m.GetProperty("scope").GetString());
        Assert.Equal("/patient/", m.GetProperty("start_url").GetString());
        Assert.Equal("standalone", m.GetProperty("display").GetString());
        var icons = m.GetProperty("icons").EnumerateArray().ToList();
        Assert.Equal(["any", "192x192", "512x512"], icons.Select(i => i.GetProperty("sizes").GetString()));
        Assert.All(icons, i => Assert.StartsWith("/patient/icons/", i.GetProperty("src").GetString()));
        Assert.Contains(SecurityCsp, response.Headers.GetValues("Content-Security-Policy"));

        // start_url opens the login page.
        Assert.Equal(HttpStatusCode.OK, (await _factory.NewClient().GetAsync("/patient/")).StatusCode);
    }

    private const string SecurityCsp = Cimef.Site.Web.SecurityHeaders.ContentSecurityPolicy;

    [Theory]
    [InlineData(192)]
    [InlineData(512)]
    public async Task The_png_icons_have_their_size(int size)
    {
        var response = await _factory.NewClient().GetAsync($"/patient/icons/cimef-{size}.png");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType!.MediaType);
        var png = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal(size, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(size, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        Assert.True(png.Length < 4_000, $"{png.Length} B"); // two colours compress to almost nothing

        var svg = await _factory.NewClient().GetAsync("/patient/icons/cimef.svg");
        Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"", await svg.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_service_worker_is_served_under_the_patient_scope_revalidated_every_time()
    {
        var client = _factory.NewClient();
        var response = await client.GetAsync("/patient/sw.js");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType!.MediaType);
        Assert.True(response.Headers.CacheControl!.NoCache);
        Assert.False(response.Headers.CacheControl.NoStore);
        var script = await response.Content.ReadAsStringAsync();
        Assert.Contains("addEventListener('fetch'", script);
        Assert.DoesNotContain("importScripts", script); // ours, no library

        // An update check with the ETag costs a 304.
        var again = new HttpRequestMessage(HttpMethod.Get, "/patient/sw.js");
        again.Headers.IfNoneMatch.Add(response.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(again)).StatusCode);
    }

    [Fact]
    public async Task The_patient_layout_links_the_manifest_and_the_dashboard_loads_the_offline_script()
    {
        var login = await (await _factory.NewClient().GetAsync("/patient")).TextAsync();
        Assert.Contains("<link rel=\"manifest\" href=\"/patient/manifest.webmanifest\">", login);
        Assert.Contains("<meta name=\"theme-color\"", login);
        Assert.DoesNotContain("portal-offline.js", login);

        var p = await _factory.Data.PatientAsync();
        await _factory.Data.ReportAsync(p, "Scanner du thorax", content: new byte[1258291]);
        var html = await (await (await _factory.PatientClientAsync(p)).GetAsync("/patient/dashboard")).TextAsync();
        Assert.Matches("<script src=\"/js/portal-offline.js\\?v=[^\"]+\" defer>", html);
        Assert.Contains("Garder sur ce téléphone (1,2 Mo)", html);
        Assert.Matches("data-cache=\"cimef-copies-[0-9a-f]{32}\"", html);
        Assert.DoesNotContain(p.Key, html);
        Assert.Contains("Effacer mes copies", html);
    }

    [Fact]
    public async Task Each_patient_gets_a_stable_cache_name_of_their_own()
    {
        var a = await _factory.Data.PatientAsync();
        var b = await _factory.Data.PatientAsync();
        async Task<string> CacheOf(TestPatient p) =>
            System.Text.RegularExpressions.Regex.Match(await (await (await _factory.PatientClientAsync(p)).GetAsync("/patient/dashboard")).TextAsync(),
                "data-cache=\"([^\"]+)\"").Groups[1].Value;
        var first = await CacheOf(a);
        Assert.Equal(first, await CacheOf(a));
        Assert.NotEqual(first, await CacheOf(b));
    }

    [Fact]
    public async Task Report_downloads_stay_no_store()
    {
        var p = await _factory.Data.PatientAsync();
        var id = await _factory.Data.ReportAsync(p);
        var client = await _factory.PatientClientAsync(p);
        foreach (var url in new[] { $"/patient/reports/{id}", $"/patient/reports/{id}?view=1" })
        {
            var response = await client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(response.Headers.CacheControl!.NoStore, url);
        }
    }
}
