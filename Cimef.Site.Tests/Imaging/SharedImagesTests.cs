using System.Net;
using System.Text.RegularExpressions;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Imaging;

/// <summary>
/// The patient shares the report; the doctor who types the code sees the same images and downloads the whole study,
/// a ZIP whose files dcmdump reads with the SOP instance UIDs the modality sent — for as long as the share lasts.
/// </summary>
public sealed partial class SharedImagesTests(ImagingFixture fixture) : IClassFixture<ImagingFixture>
{
    private CimefFactory Factory => fixture.Factory;

    [OrthancFact]
    public async Task The_doctor_of_a_share_sees_the_images_and_downloads_the_dicom_study_for_the_shares_duration()
    {
        var p = await Factory.Data.PatientAsync();
        var (files, orthancId) = await fixture.SendStudyAsync(new DicomStudySpec(p.InvoiceNumber, Series: 2, InstancesPerSeries: 2));
        var (_, otherId) = await fixture.SendStudyAsync(new DicomStudySpec("AUTRE-1", Series: 1, InstancesPerSeries: 1));
        var study = await fixture.LinkAsync(orthancId);
        var other = await fixture.LinkAsync(otherId);
        var reportId = await Factory.Data.ReportAsync(p, "Scanner thoracique");
        var patient = await Factory.PatientClientAsync(p);
        var created = await patient.PostFormAsync($"/patient/shares?handler=Create&report={reportId}", new() { ["days"] = "1" },
            tokenPage: $"/patient/shares?report={reportId}");
        var html = await created.TextAsync();
        var token = LinkRegex().Match(html).Groups[1].Value;
        var code = CodeRegex().Match(html).Groups[1].Value;
        Assert.NotEmpty(token);

        var doctor = Factory.NewClient();
        Assert.Equal(HttpStatusCode.NotFound, (await doctor.GetAsync($"/s/{token}/images/{study.Id}")).StatusCode); // no code yet
        Assert.Equal(HttpStatusCode.NotFound, (await doctor.GetAsync($"/s/{token}/images/{study.Id}/archive")).StatusCode);
        var typed = await doctor.PostFormAsync($"/s/{token}", new() { ["code"] = code }, tokenPage: "/patient");
        Assert.Equal(HttpStatusCode.Redirect, typed.StatusCode);
        var open = await (await doctor.GetAsync($"/s/{token}")).TextAsync();
        Assert.Contains($"href=\"/s/{token}/images/{study.Id}\"", open);
        Assert.Contains("Voir les images (4)", open);

        var page = await doctor.GetAsync($"/s/{token}/images/{study.Id}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var pageHtml = await page.TextAsync();
        Assert.Contains("Télécharger l'examen complet (DICOM, ", pageHtml);
        var instance = Regex.Match(pageHtml, $"/s/{token}/images/{study.Id}/i/([0-9a-f-]{{44}})\"").Groups[1].Value;
        var image = await doctor.GetAsync($"/s/{token}/images/{study.Id}/i/{instance}");
        Assert.Equal("image/jpeg", image.Content.Headers.ContentType!.MediaType);
        Assert.True(image.Headers.CacheControl!.NoStore);

        var zip = await doctor.GetAsync($"/s/{token}/images/{study.Id}/archive");
        Assert.Equal(HttpStatusCode.OK, zip.StatusCode);
        Assert.Equal("application/zip", zip.Content.Headers.ContentType!.MediaType);
        Assert.Contains(".zip", zip.Content.Headers.ContentDisposition!.FileNameStar ?? zip.Content.Headers.ContentDisposition.FileName);
        var uids = await PatientImagesTests.SopUidsInZipAsync(await zip.Content.ReadAsByteArrayAsync()); // dcmdump reads every file
        Assert.Equal(files.SopInstanceUids.Order(), uids.Order());
        await Factory.FlushEventsAsync();
        var ev = await Factory.WithDbAsync(db => db.AccessEvents.Where(e => e.Kind == AccessEventKinds.ImagesDownload && e.PatientAccessId == p.AccessId).ToListAsync());
        Assert.Contains("partage", Assert.Single(ev).Detail);

        // Only the shared report's studies, and only while the share lasts.
        Assert.Equal(HttpStatusCode.NotFound, (await doctor.GetAsync($"/s/{token}/images/{other.Id}")).StatusCode);
        Factory.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.NotFound, (await doctor.GetAsync($"/s/{token}/images/{study.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await doctor.GetAsync($"/s/{token}/images/{study.Id}/archive")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await doctor.GetAsync($"/s/{token}/images/{study.Id}/i/{instance}")).StatusCode);
    }

    [GeneratedRegex("<code id=\"share-link\">https?://[^<]*/s/([A-Za-z0-9_-]+)</code>")]
    private static partial Regex LinkRegex();

    [GeneratedRegex("<strong id=\"share-code\">([0-9]{6})</strong>")]
    private static partial Regex CodeRegex();
}
