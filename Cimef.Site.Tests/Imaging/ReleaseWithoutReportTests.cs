using System.Net;
using System.Text.Json;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;

namespace Cimef.Site.Tests.Imaging;

/// <summary>Imaging:ReleaseWithoutReport=true: a linked study is the patient's at once, before any report, listed apart on the dashboard.</summary>
public sealed class ReleaseWithoutReportTests : IClassFixture<ImagingFixture>
{
    private readonly ImagingFixture _fixture;

    public ReleaseWithoutReportTests(ImagingFixture fixture)
    {
        _fixture = fixture;
        fixture.Factory.Settings["Imaging:ReleaseWithoutReport"] = "true";
    }

    [OrthancFact]
    public async Task A_linked_study_is_visible_before_any_report()
    {
        var p = await _fixture.Factory.Data.PatientAsync();
        var (_, orthancId) = await _fixture.SendStudyAsync(new DicomStudySpec(p.InvoiceNumber, Series: 1, InstancesPerSeries: 3));
        var study = await _fixture.LinkAsync(orthancId);
        var client = await _fixture.Factory.PatientClientAsync(p);
        var ids = JsonDocument.Parse(await client.GetStringAsync("/api/studies/patient/")).RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetInt32());
        Assert.Equal([study.Id], ids);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/patient/images/{study.Id}")).StatusCode);
        var dashboard = await (await client.GetAsync("/patient/dashboard")).TextAsync();
        Assert.Contains("Voir les images (3)", dashboard);
    }
}
