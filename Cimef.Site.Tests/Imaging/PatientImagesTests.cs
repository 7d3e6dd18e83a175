using System.IO.Compression;
using System.Net;
using System.Text.Json;
using Cimef.Site.Data.Entities;
using Cimef.Site.Imaging;
using Cimef.Site.Reports;
using Cimef.Site.Storage;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Imaging;

/// <summary>
/// A study sent to the clinic's PACS with the invoice number reaches the patient's phone with the report: linked by
/// the changes feed, released by the published report (hidden again when it is withdrawn), light images cached in the
/// report store, the whole study as a ZIP, another patient's ids a 404.
/// </summary>
public sealed class PatientImagesTests(ImagingFixture fixture) : IClassFixture<ImagingFixture>
{
    private CimefFactory Factory => fixture.Factory;

    [OrthancFact]
    public async Task A_study_with_the_invoice_number_appears_with_the_published_report_and_goes_with_its_withdrawal()
    {
        var p = await Factory.Data.PatientAsync();
        var (_, orthancId) = await fixture.SendStudyAsync(new DicomStudySpec(p.InvoiceNumber, Series: 2, InstancesPerSeries: 3, Modality: "CT"));
        var study = await fixture.LinkAsync(orthancId);
        Assert.Equal(p.PatientId, study.PatientId);
        Assert.Equal(p.InvoiceId, study.InvoiceId);
        Assert.Equal(StudyLinkSource.Auto, study.LinkSource);

        var client = await Factory.PatientClientAsync(p);
        Assert.Equal("[]", await (await client.GetAsync("/api/studies/patient/")).Content.ReadAsStringAsync()); // no report yet
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/patient/images/{study.Id}")).StatusCode);

        var reportId = await Factory.Data.ReportAsync(p, "Scanner thoracique");
        var list = await client.GetAsync("/api/studies/patient/");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var json = JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement;
        var item = Assert.Single(json.EnumerateArray());
        Assert.Equal(["id", "date", "modality", "description", "series", "images", "archive_bytes"], item.EnumerateObject().Select(o => o.Name));
        Assert.Equal(study.Id, item.GetProperty("id").GetInt32());
        Assert.Equal("2026-11-25", item.GetProperty("date").GetString());
        Assert.Equal("CT", item.GetProperty("modality").GetString());
        Assert.Equal("Scanner thoracique", item.GetProperty("description").GetString());
        Assert.Equal(2, item.GetProperty("series").GetInt32());
        Assert.Equal(6, item.GetProperty("images").GetInt32());
        Assert.True(item.GetProperty("archive_bytes").GetInt64() > 0);

        var dashboard = await (await client.GetAsync("/patient/dashboard")).TextAsync();
        Assert.Contains($"href=\"/patient/images/{study.Id}\"", dashboard);
        Assert.Contains("Voir les images (6)", dashboard);

        var page = await client.GetAsync($"/patient/images/{study.Id}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.TextAsync();
        Assert.Contains("Télécharger l'examen complet (DICOM, ", html);
        Assert.Contains($"href=\"/api/studies/{study.Id}/archive/\" download", html);
        Assert.Equal(2, CountOf(html, "?t=1\"")); // one thumbnail per series
        Assert.Equal(7, CountOf(html, "loading=\"lazy\"")); // 2 thumbnails + 5 images; the first image is asked for at once
        await Factory.FlushEventsAsync();
        Assert.Equal(1, await Factory.EventCountAsync(AccessEventKinds.ImagesView, p.AccessId));

        // Withdrawing the report hides the study again: nothing is copied, the rule reads the reports.
        await Factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<Cimef.Site.Data.CimefDb>();
            var report = await db.PatientReports.SingleAsync(r => r.Id == reportId);
            Assert.Equal(ReportPublisher.Outcome.StoredInactive, sp.GetRequiredService<ReportPublisher>().Withdraw(report, "Erreur de patient", TestData.System).Outcome);
            await db.SaveChangesAsync();
        });
        Assert.Equal("[]", await (await client.GetAsync("/api/studies/patient/")).Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/patient/images/{study.Id}")).StatusCode);
        Assert.DoesNotContain("/patient/images/", await (await client.GetAsync("/patient/dashboard")).TextAsync());
    }

    [OrthancFact]
    public async Task Images_are_light_jpegs_no_wider_than_720_px_rendered_once_and_kept_in_the_store()
    {
        var p = await Factory.Data.PatientAsync();
        var (_, orthancId) = await fixture.SendStudyAsync(new DicomStudySpec(p.InvoiceNumber, Series: 1, InstancesPerSeries: 2, Width: 1600, Height: 1200));
        var study = await fixture.LinkAsync(orthancId);
        await Factory.Data.ReportAsync(p);
        var client = await Factory.PatientClientAsync(p);
        var html = await (await client.GetAsync($"/patient/images/{study.Id}")).TextAsync();
        var instance = System.Text.RegularExpressions.Regex.Match(html, $"/patient/images/{study.Id}/i/([0-9a-f-]{{44}})\"").Groups[1].Value;
        Assert.NotEmpty(instance);

        var image = await client.GetAsync($"/patient/images/{study.Id}/i/{instance}");
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/jpeg", image.Content.Headers.ContentType!.MediaType);
        Assert.True(image.Headers.CacheControl!.NoStore);
        var bytes = await image.Content.ReadAsByteArrayAsync();
        Assert.InRange(bytes.Length, 1, StudyImages.MaxBytes);
        Assert.Equal(720, Jpeg.Size(bytes)!.Value.Width);
        var thumb = await (await client.GetAsync($"/patient/images/{study.Id}/i/{instance}?t=1")).Content.ReadAsByteArrayAsync();
        Assert.Equal(StudyImages.ThumbWidth, Jpeg.Size(thumb)!.Value.Width);

        // Kept in the report store: the second answer is the stored file, byte for byte.
        var stored = await Factory.WithScopeAsync(async sp =>
        {
            var file = await sp.GetRequiredService<ReportStore>().OpenReadAsync(StudyImages.StoredName(orthancId, instance, StudyImages.Size.Full));
            await using var content = file!.Content;
            var buffer = new MemoryStream();
            await content.CopyToAsync(buffer);
            return buffer.ToArray();
        });
        Assert.Equal(bytes, stored);
        Assert.Equal(bytes, await client.GetByteArrayAsync($"/patient/images/{study.Id}/i/{instance}"));
    }

    [OrthancFact]
    public async Task Another_patients_study_image_and_archive_ids_are_404()
    {
        var mine = await Factory.Data.PatientAsync();
        var theirs = await Factory.Data.PatientAsync();
        var (_, myId) = await fixture.SendStudyAsync(new DicomStudySpec(mine.InvoiceNumber, Series: 1, InstancesPerSeries: 1));
        var (_, theirId) = await fixture.SendStudyAsync(new DicomStudySpec(theirs.InvoiceNumber, PatientName: "FALL^Moussa", Series: 1, InstancesPerSeries: 1));
        var myStudy = await fixture.LinkAsync(myId);
        var theirStudy = await fixture.LinkAsync(theirId);
        await Factory.Data.ReportAsync(mine);
        await Factory.Data.ReportAsync(theirs);
        var theirInstance = (string)(await fixture.Orthanc.GetAsync($"studies/{theirId}/instances"))[0]!["ID"]!;

        var client = await Factory.PatientClientAsync(mine);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/patient/images/{myStudy.Id}")).StatusCode);
        foreach (var url in new[]
        {
            $"/patient/images/{theirStudy.Id}", $"/patient/images/{theirStudy.Id}/i/{theirInstance}", $"/patient/images/{theirStudy.Id}/archive",
            $"/api/studies/{theirStudy.Id}/archive/", $"/patient/images/{myStudy.Id}/i/{theirInstance}", "/api/studies/999999/archive/",
            $"/patient/images/{myStudy.Id}/i/..%2F..%2Fetc", "/patient/images/abc",
        })
            Assert.True((await client.GetAsync(url)).StatusCode == HttpStatusCode.NotFound, url);
        var api = await client.GetAsync($"/api/studies/{theirStudy.Id}/archive/");
        Assert.Equal("application/json", api.Content.Headers.ContentType!.MediaType);
        var listed = JsonDocument.Parse(await client.GetStringAsync("/api/studies/patient/")).RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetInt32());
        Assert.Equal([myStudy.Id], listed);
    }

    [OrthancFact]
    public async Task The_whole_study_is_a_zip_of_the_dicom_files_sent_cached_for_ranges_counted_and_audited()
    {
        var p = await Factory.Data.PatientAsync();
        var (files, orthancId) = await fixture.SendStudyAsync(new DicomStudySpec(p.InvoiceNumber, Series: 2, InstancesPerSeries: 2));
        var study = await fixture.LinkAsync(orthancId);
        await Factory.Data.ReportAsync(p);
        var client = await Factory.PatientClientAsync(p);

        var zip = await client.GetAsync($"/api/studies/{study.Id}/archive/");
        Assert.Equal(HttpStatusCode.OK, zip.StatusCode);
        Assert.Equal("application/zip", zip.Content.Headers.ContentType!.MediaType);
        Assert.True(zip.Headers.CacheControl!.NoStore);
        var bytes = await zip.Content.ReadAsByteArrayAsync();
        var uids = await SopUidsInZipAsync(bytes);
        Assert.Equal(files.SopInstanceUids.Order(), uids.Order());

        var cached = await Factory.WithDbAsync(db => db.ImagingStudies.SingleAsync(s => s.Id == study.Id));
        Assert.NotNull(cached.ArchiveFile);
        Assert.Equal(bytes.Length, cached.ArchiveBytes); // the size shown is now the exact one
        Assert.Equal(1, cached.ArchiveDownloadCount);

        var ranged = new HttpRequestMessage(HttpMethod.Get, $"/api/studies/{study.Id}/archive/");
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(100, null);
        var rest = await client.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, rest.StatusCode);
        Assert.Equal(bytes[100..], await rest.Content.ReadAsByteArrayAsync());
        await Factory.FlushEventsAsync();
        Assert.Equal(1, await Factory.EventCountAsync(AccessEventKinds.ImagesDownload, p.AccessId)); // the continuation is not a download
        Assert.Equal(1, await Factory.WithDbAsync(db => db.ImagingStudies.Where(s => s.Id == study.Id).Select(s => s.ArchiveDownloadCount).SingleAsync()));
    }

    internal static async Task<IReadOnlyList<string>> SopUidsInZipAsync(byte[] zip)
    {
        var dir = Path.Combine(Path.GetTempPath(), "cimef-zip-" + Guid.NewGuid().ToString("N"));
        try
        {
            await ZipFile.ExtractToDirectoryAsync(new MemoryStream(zip), dir);
            return await DicomStudies.SopInstanceUidsAsync(Directory.GetFiles(dir, "*", SearchOption.AllDirectories));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static int CountOf(string text, string part)
    {
        var n = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}
