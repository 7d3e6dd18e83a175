using System.Net;
using System.Net.Http.Headers;
using Cimef.Site.Auditing;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Portal;

/// <summary>/patient/reports/{id}: ownership from the session, 404/410/503, headers, ranges and counting.</summary>
public class DownloadTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public DownloadTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
    }

    private Task<int> DownloadCountAsync(int id) =>
        _factory.WithDbAsync(db => db.PatientReports.Where(r => r.Id == id).Select(r => r.DownloadCount).SingleAsync());

    [Fact]
    public async Task A_download_streams_the_file_with_safe_headers_and_counts_once()
    {
        var p = await _factory.Data.PatientAsync();
        var bytes = Cimef.Site.Cli.DemoSeed.MinimalPdf("Compte rendu");
        var id = await _factory.Data.ReportAsync(p, "IRM du genou — côté droit", content: bytes);
        var client = await _factory.PatientClientAsync(p);

        var response = await client.GetAsync($"/patient/reports/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/pdf", response.Content.Headers.ContentType!.MediaType);
        var disposition = response.Content.Headers.ContentDisposition!;
        Assert.Equal("attachment", disposition.DispositionType);
        Assert.Equal("IRM du genou — côté droit - 25-11-2026.pdf", disposition.FileNameStar);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.True(response.Headers.CacheControl!.NoStore);
        Assert.Equal("bytes", response.Headers.AcceptRanges.Single());
        Assert.Equal(1, await DownloadCountAsync(id));

        var view = await client.GetAsync($"/patient/reports/{id}?view=1");
        Assert.Equal("inline", view.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Equal(2, await DownloadCountAsync(id));
    }

    [Fact]
    public async Task A_range_continuation_or_a_head_request_does_not_count()
    {
        var p = await _factory.Data.PatientAsync();
        var bytes = new byte[10_000];
        new Random(1).NextBytes(bytes);
        var id = await _factory.Data.ReportAsync(p, content: bytes);
        var client = await _factory.PatientClientAsync(p);

        var request = new HttpRequestMessage(HttpMethod.Get, $"/patient/reports/{id}");
        request.Headers.Range = new RangeHeaderValue(4000, null);
        var partial = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(bytes[4000..], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal(4000, partial.Content.Headers.ContentRange!.From);

        var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/patient/reports/{id}"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(10_000, head.Content.Headers.ContentLength);
        Assert.Equal(0, await DownloadCountAsync(id));
        // The continuation delivered bytes, so it is accounted (download_part); HEAD delivered none.
        Assert.Equal([AccessEventKinds.DownloadPart], await DeliveryEventsAsync(p.AccessId));
    }

    private Task<List<string>> DeliveryEventsAsync(int? accessId) => _factory.WithDbAsync(db => db.AccessEvents
        .Where(e => e.PatientAccessId == accessId && (e.Kind == AccessEventKinds.Download || e.Kind == AccessEventKinds.DownloadPart))
        .OrderBy(e => e.Id).Select(e => e.Kind).ToListAsync());

    private static async Task<HttpResponseMessage> GetRangeAsync(HttpClient client, string url, string range)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Range", range);
        return await client.SendAsync(request);
    }

    [Theory]
    [InlineData("/patient/reports/{0}")]
    [InlineData("/api/reports/download/{0}/")]
    public async Task A_ranged_request_from_byte_zero_counts_and_a_continuation_is_accounted_as_a_part(string urlFormat)
    {
        var p = await _factory.Data.PatientAsync();
        var bytes = new byte[10_000];
        new Random(2).NextBytes(bytes);
        var id = await _factory.Data.ReportAsync(p, content: bytes);
        var client = await _factory.PatientClientAsync(p);
        var url = string.Format(System.Globalization.CultureInfo.InvariantCulture, urlFormat, id);

        var first = await GetRangeAsync(client, url, "bytes=0-");
        Assert.Equal(HttpStatusCode.PartialContent, first.StatusCode);
        Assert.Equal(bytes, await first.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, await DownloadCountAsync(id));
        Assert.Equal([AccessEventKinds.Download], await DeliveryEventsAsync(p.AccessId));

        var continuation = await GetRangeAsync(client, url, "bytes=1000-");
        Assert.Equal(HttpStatusCode.PartialContent, continuation.StatusCode);
        Assert.Equal(bytes[1000..], await continuation.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, await DownloadCountAsync(id));
        Assert.Equal([AccessEventKinds.Download, AccessEventKinds.DownloadPart], await DeliveryEventsAsync(p.AccessId));
        var part = await _factory.WithDbAsync(db => db.AccessEvents.SingleAsync(e => e.PatientAccessId == p.AccessId && e.Kind == AccessEventKinds.DownloadPart));
        Assert.Equal(id, part.ReportId);

        // A first chunk (0-999) is the start of a download; a suffix range is a part; several ranges are
        // ignored by the server (whole file, 200), so they count as a download; past the end is a 416, no bytes, no event.
        var chunk = await GetRangeAsync(client, url, "bytes=0-999");
        Assert.Equal(bytes[..1000], await chunk.Content.ReadAsByteArrayAsync());
        var suffix = await GetRangeAsync(client, url, "bytes=-500");
        Assert.Equal(bytes[^500..], await suffix.Content.ReadAsByteArrayAsync());
        var several = await GetRangeAsync(client, url, "bytes=5000-5999, 7000-");
        Assert.Equal(HttpStatusCode.OK, several.StatusCode);
        Assert.Equal(bytes, await several.Content.ReadAsByteArrayAsync());
        var beyond = await GetRangeAsync(client, url, "bytes=20000-");
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, beyond.StatusCode);

        Assert.Equal(3, await DownloadCountAsync(id));
        Assert.Equal([AccessEventKinds.Download, AccessEventKinds.DownloadPart, AccessEventKinds.Download, AccessEventKinds.DownloadPart, AccessEventKinds.Download],
            await DeliveryEventsAsync(p.AccessId));
    }

    [Fact]
    public async Task A_burst_of_range_only_requests_raises_the_download_burst_alert()
    {
        var p = await _factory.Data.PatientAsync();
        var bytes = new byte[4_000];
        new Random(3).NextBytes(bytes);
        var id = await _factory.Data.ReportAsync(p, content: bytes);
        var client = await _factory.PatientClientAsync(p);

        for (var i = 0; i < AlertRules.DownloadBurstThreshold; i++)
        {
            var response = await GetRangeAsync(client, $"/api/reports/download/{id}/", $"bytes={1 + i * 10}-{10 + i * 10}");
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        }
        Assert.Equal(0, await DownloadCountAsync(id));

        var now = _factory.Time.GetUtcNow().UtcDateTime;
        await _factory.WithScopeAsync(sp => sp.GetRequiredService<AlertRules>().EvaluateAsync(now));
        var alert = await _factory.WithDbAsync(db => db.Alerts.SingleAsync(a => a.DedupKey == $"download_burst:accès {p.AccessId}"));
        Assert.Equal(AlertLevel.Warning, alert.Level);
    }

    [Fact]
    public async Task Another_patients_report_and_neighbouring_or_made_up_ids_are_the_same_404_and_count_nothing()
    {
        var a = await _factory.Data.PatientAsync();
        var b = await _factory.Data.PatientAsync();
        var own = await _factory.Data.ReportAsync(a);
        var theirs = await _factory.Data.ReportAsync(b);
        var client = await _factory.PatientClientAsync(a);

        var bodies = new List<string>();
        foreach (var id in new[] { theirs, theirs + 1, own + 1000, 999999, 0, -1 })
        {
            var response = await client.GetAsync($"/patient/reports/{id}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            // The language switch links back to the requested URL: that echo of the caller's own id is the only difference allowed.
            bodies.Add((await response.TextAsync()).Replace($"/patient/reports/{id}?lang=", "/patient/reports/ID?lang=", StringComparison.Ordinal));
        }
        Assert.Single(bodies.Distinct());
        Assert.Contains("Rapport introuvable", bodies[0]);
        Assert.Equal(0, await DownloadCountAsync(theirs));
        Assert.Equal(0, await DownloadCountAsync(own));
    }

    [Theory]
    [InlineData("/patient/reports/..%2F..%2Fappsettings.json")]
    [InlineData("/patient/reports/1;DROP%20TABLE%20PatientReports")]
    [InlineData("/patient/reports/0x1")]
    [InlineData("/patient/reports/99999999999999999999")]
    [InlineData("/api/reports/download/..%2F..%2Fcimef.db/")]
    [InlineData("/api/reports/download/1%252F..%252F2/")]
    public async Task Path_traversal_looking_ids_are_a_plain_404(string url)
    {
        var p = await _factory.Data.PatientAsync();
        await _factory.Data.ReportAsync(p);
        var client = await _factory.PatientClientAsync(p);
        var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.NotEqual("application/pdf", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_missing_file_is_a_503_with_an_alert()
    {
        var p = await _factory.Data.PatientAsync();
        var id = await _factory.Data.ReportAsync(p);
        await _factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<Cimef.Site.Data.CimefDb>();
            var report = await db.PatientReports.SingleAsync(r => r.Id == id);
            await sp.GetRequiredService<ReportStore>().DeleteAsync(report.StoredFileName);
        });
        var client = await _factory.PatientClientAsync(p);
        var response = await client.GetAsync($"/patient/reports/{id}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("Fichier temporairement indisponible", await response.TextAsync());
        var alert = await _factory.WithDbAsync(db => db.Alerts.SingleAsync(a => a.Subject == $"rapport {id}"));
        Assert.Equal(AlertLevel.Critical, alert.Level);
        Assert.Equal(0, await DownloadCountAsync(id));
    }

    [Fact]
    public async Task Without_a_session_a_download_link_leads_to_the_login_page()
    {
        var p = await _factory.Data.PatientAsync();
        var id = await _factory.Data.ReportAsync(p);
        var response = await _factory.NewClient().GetAsync($"/patient/reports/{id}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/patient", response.Headers.Location!.OriginalString);
        Assert.Equal(0, await DownloadCountAsync(id));
    }
}
