using System.Net;
using System.Net.Http.Headers;
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
        var p = await _factory.CreatePatientAsync();
        var bytes = Cimef.Site.Cli.DemoSeed.MinimalPdf("Compte rendu");
        var id = await _factory.AddReportAsync(p, "IRM du genou — côté droit", content: bytes);
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
        var p = await _factory.CreatePatientAsync();
        var bytes = new byte[10_000];
        new Random(1).NextBytes(bytes);
        var id = await _factory.AddReportAsync(p, content: bytes);
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
    }

    [Fact]
    public async Task Another_patients_report_and_neighbouring_or_made_up_ids_are_the_same_404_and_count_nothing()
    {
        var a = await _factory.CreatePatientAsync();
        var b = await _factory.CreatePatientAsync();
        var own = await _factory.AddReportAsync(a);
        var theirs = await _factory.AddReportAsync(b);
        var client = await _factory.PatientClientAsync(a);

        var bodies = new List<string>();
        foreach (var id in new[] { theirs, theirs + 1, own + 1000, 999999, 0, -1 })
        {
            var response = await client.GetAsync($"/patient/reports/{id}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            bodies.Add(await response.TextAsync());
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
        var p = await _factory.CreatePatientAsync();
        await _factory.AddReportAsync(p);
        var client = await _factory.PatientClientAsync(p);
        var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.NotEqual("application/pdf", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_missing_file_is_a_503_with_an_alert()
    {
        var p = await _factory.CreatePatientAsync();
        var id = await _factory.AddReportAsync(p);
        await _factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<Cimef.Site.Data.CimefDb>();
            var report = await db.PatientReports.SingleAsync(r => r.Id == id);
            sp.GetRequiredService<ReportStore>().Delete(report.StoredFileName);
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
        var p = await _factory.CreatePatientAsync();
        var id = await _factory.AddReportAsync(p);
        var response = await _factory.NewClient().GetAsync($"/patient/reports/{id}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/patient", response.Headers.Location!.OriginalString);
        Assert.Equal(0, await DownloadCountAsync(id));
    }
}
