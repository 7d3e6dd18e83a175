using System.Diagnostics;
using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Imaging;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Notifications;
using Cimef.Site.Tests.Portal;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Imaging;

/// <summary>
/// The PACS away — slow past the timeout, answering garbage or errors: the image pages answer the French 503 with
/// Retry-After within the timeout, the reports stay downloadable, nothing answers 500, and one pacs_unreachable alert.
/// </summary>
public sealed class PacsAwayTests : IAsyncLifetime
{
    private readonly FakeProvider _pacs = FakeProvider.Start();
    private readonly CimefFactory _factory = new();

    public PacsAwayTests()
    {
        _factory.Settings["Imaging:Orthanc:Url"] = _pacs.Address + "/";
        _factory.Settings["Imaging:Orthanc:Username"] = "cimef";
        _factory.Settings["Imaging:Orthanc:Password"] = "secret";
        _factory.Settings["Imaging:TimeoutSeconds"] = "2";
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _pacs.DisposeAsync();
    }

    private const string StudyId = "0a1b2c3d-0a1b2c3d-0a1b2c3d-0a1b2c3d-0a1b2c3d";
    private const string InstanceId = "1a1b2c3d-0a1b2c3d-0a1b2c3d-0a1b2c3d-0a1b2c3d";

    /// <summary>A patient with a published report and a study linked to its invoice (recorded while the PACS still answered).</summary>
    private async Task<(TestPatient Patient, int StudyId, int ReportId)> SeedAsync()
    {
        var p = await _factory.Data.PatientAsync();
        var reportId = await _factory.Data.ReportAsync(p);
        var id = await _factory.WithDbAsync(async db =>
        {
            var s = new ImagingStudy
            {
                OrthancId = StudyId, StudyInstanceUid = "2.25.1", Modality = "CT", Description = "Scanner", SeriesCount = 1, InstanceCount = 1,
                ArchiveBytes = 1000, ReceivedAt = _factory.Time.GetUtcNow().UtcDateTime, PatientId = p.PatientId, InvoiceId = p.InvoiceId,
                LinkSource = StudyLinkSource.Auto,
            };
            db.ImagingStudies.Add(s);
            await db.SaveChangesAsync();
            return s.Id;
        });
        return (p, id, reportId);
    }

    [Fact]
    public async Task A_pacs_past_the_timeout_gets_the_french_503_the_report_stays_downloadable_and_one_alert()
    {
        var (p, studyId, reportId) = await SeedAsync();
        _pacs.Hang = _ => true;
        var client = await _factory.PatientClientAsync(p);

        var watch = Stopwatch.StartNew();
        var page = await client.GetAsync($"/patient/images/{studyId}");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"answered after {watch.Elapsed}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
        Assert.NotNull(page.Headers.RetryAfter);
        Assert.Contains("Images momentanément indisponibles", await page.TextAsync());
        var image = await client.GetAsync($"/patient/images/{studyId}/i/{InstanceId}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, image.StatusCode);
        Assert.Contains("Images momentanément indisponibles", await image.TextAsync());
        var archive = await client.GetAsync($"/api/studies/{studyId}/archive/");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, archive.StatusCode);
        Assert.Equal("application/json", archive.Content.Headers.ContentType!.MediaType);
        Assert.NotNull(archive.Headers.RetryAfter);

        var report = await client.GetAsync($"/patient/reports/{reportId}");
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/patient/dashboard")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/studies/patient/")).StatusCode); // the list needs no PACS

        var alerts = await _factory.WithDbAsync(db => db.Alerts.Where(a => a.Kind == AlertKinds.PacsUnreachable).ToListAsync());
        Assert.Single(alerts);
        Assert.Null(alerts[0].AcknowledgedAt);
    }

    [Theory]
    [InlineData(200, "<html>proxy error</html>")]
    [InlineData(200, "{\"ID\": 12}")]
    [InlineData(200, "[1, 2, 3]")]
    [InlineData(500, "{}")]
    [InlineData(401, "{}")]
    public async Task A_pacs_answering_garbage_or_errors_never_gets_a_500(int status, string body)
    {
        var (p, studyId, _) = await SeedAsync();
        _pacs.Respond = _ => (status, body);
        var client = await _factory.PatientClientAsync(p);
        foreach (var url in new[] { $"/patient/images/{studyId}", $"/patient/images/{studyId}/i/{InstanceId}", $"/api/studies/{studyId}/archive/" })
        {
            var r = await client.GetAsync(url);
            Assert.True(r.StatusCode == HttpStatusCode.ServiceUnavailable, $"{url}: {(int)r.StatusCode}");
        }
        // The changes feed gives up on the pass, moves no cursor and records nothing.
        await Assert.ThrowsAsync<OrthancClient.UnavailableException>(() =>
            _factory.WithScopeAsync(sp => sp.GetRequiredService<StudyLinker>().FollowChangesAsync()));
        Assert.Null(await _factory.WithDbAsync(db => db.JobStates.Where(j => j.Name == StudyLinker.JobName).Select(j => j.Cursor).FirstOrDefaultAsync()));
        Assert.Equal(1, await _factory.WithDbAsync(db => db.Alerts.CountAsync(a => a.Kind == AlertKinds.PacsUnreachable && a.AcknowledgedAt == null)));
    }

    [Fact]
    public async Task Without_a_pacs_url_nothing_of_imaging_shows()
    {
        await using var plain = new CimefFactory();
        var p = await plain.Data.PatientAsync();
        await plain.Data.ReportAsync(p);
        var client = await plain.PatientClientAsync(p);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/studies/patient/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/patient/images/1")).StatusCode);
        Assert.DoesNotContain("/patient/images/", await (await client.GetAsync("/patient/dashboard")).TextAsync());
        Assert.Null(plain.Services.GetService<OrthancClient>());
    }
}
