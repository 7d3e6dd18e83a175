using System.Net;
using System.Net.Http.Headers;
using Amazon.S3.Model;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Cimef.Site.Portal;
using Cimef.Site.Reports;
using static Cimef.Site.Tests.Reports.ReportTestData;

namespace Cimef.Site.Tests.Storage;

/// <summary>Storage:Reports:Provider=S3 against a real S3-compatible server (s3rver on loopback): same guarantees as the folder.</summary>
public class S3ReportStoreTests : IClassFixture<S3CimefFactory>
{
    private readonly S3CimefFactory _factory;

    public S3ReportStoreTests(S3CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
    }

    private async Task<List<string>> ObjectsAsync()
    {
        using var s3 = _factory.S3.Client();
        var page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3Server.Bucket });
        return (page.S3Objects ?? []).Select(o => o.Key).ToList();
    }

    private Task<string> StoredNameAsync(int id) =>
        _factory.WithDbAsync(db => db.PatientReports.Where(r => r.Id == id).Select(r => r.StoredFileName).SingleAsync());

    private static byte[] Pdf(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        PdfBytes.AsSpan(0, 8).CopyTo(bytes);
        return bytes;
    }

    [Fact]
    public void The_site_uses_the_s3_store() =>
        Assert.IsType<S3ReportStore>(_factory.Services.GetRequiredService<ReportStore>());

    [Fact]
    public async Task A_staff_upload_is_an_object_the_patient_downloads_byte_for_byte()
    {
        var p = await _factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var staff = _factory.NewClient();
        staff.UseBearer(await _factory.Data.ApiTokenAsync(Roles.Doctor));
        // Larger than one 5 MB part: the multipart path, with its read-back verification.
        var bytes = Pdf(6 * 1024 * 1024 + 123, seed: 1);

        var upload = await staff.PostAsync("/api/reports/", Multipart(new("invoice_number", p.InvoiceNumber), new("title", "Scanner thoracique"), new("file", FileName: "scanner.pdf", Bytes: bytes)));
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        var report = await _factory.WithDbAsync(db => db.PatientReports.SingleAsync(r => r.Title == "Scanner thoracique"));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), report.Sha256);
        Assert.Contains(report.StoredFileName, await ObjectsAsync());

        var patient = await _factory.PatientClientAsync(p);
        var download = await patient.GetAsync($"/patient/reports/{report.Id}");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/pdf", download.Content.Headers.ContentType!.MediaType);

        var api = await patient.GetAsync($"/api/reports/download/{report.Id}/");
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        Assert.Equal(bytes, await api.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task An_upload_that_fails_midway_leaves_no_object_and_no_row()
    {
        var p = await _factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var before = await ObjectsAsync();
        // Fails after the first 5 MB part has been sent: the multipart upload must not become an object.
        var content = new FailingStream(Pdf(8 * 1024 * 1024, seed: 2), failAfter: 6 * 1024 * 1024);

        await Assert.ThrowsAsync<InvalidOperationException>(() => _factory.WithScopeAsync(sp => sp.GetRequiredService<ReportPublisher>()
            .UploadAsync(p.PatientId, p.InvoiceId, "Interrompu", "x.pdf", content, TestData.System)));
        Assert.Equal(before, await ObjectsAsync());
        Assert.False(await _factory.WithDbAsync(db => db.PatientReports.AnyAsync(r => r.Title == "Interrompu")));

        // The single-PUT path (a file smaller than one part) too.
        var small = new FailingStream(Pdf(100_000, seed: 3), failAfter: 50_000);
        await Assert.ThrowsAsync<InvalidOperationException>(() => _factory.WithScopeAsync(sp => sp.GetRequiredService<ReportPublisher>()
            .UploadAsync(p.PatientId, p.InvoiceId, "Interrompu", "x.pdf", small, TestData.System)));
        Assert.Equal(before, await ObjectsAsync());
    }

    [Fact]
    public async Task A_missing_object_is_a_french_503_with_an_alert()
    {
        var p = await _factory.Data.PatientAsync();
        var id = await _factory.Data.ReportAsync(p);
        using (var s3 = _factory.S3.Client())
            await s3.DeleteObjectAsync(S3Server.Bucket, await StoredNameAsync(id));

        var client = await _factory.PatientClientAsync(p);
        var response = await client.GetAsync($"/patient/reports/{id}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains(PatientMessages.FileUnavailable, await response.TextAsync());
        var api = await client.GetAsync($"/api/reports/download/{id}/");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, api.StatusCode);
        Assert.Contains(PatientMessages.FileUnavailable, await api.TextAsync());
        var alert = await _factory.WithDbAsync(db => db.Alerts.SingleAsync(a => a.Subject == $"rapport {id}"));
        Assert.Equal(AlertKinds.ReportFile, alert.Kind);
        Assert.Equal(AlertLevel.Critical, alert.Level);
        Assert.True(await _factory.WithDbAsync(db => db.AccessEvents.AnyAsync(e => e.ReportId == id && e.Kind == AccessEventKinds.FileMissing)));
    }

    [Fact]
    public async Task Range_requests_are_served_from_ranged_gets()
    {
        var p = await _factory.Data.PatientAsync();
        var bytes = Pdf(300_000, seed: 4);
        var id = await _factory.Data.ReportAsync(p, content: bytes);
        var client = await _factory.PatientClientAsync(p);

        foreach (var (range, from, to) in new[] { (new RangeHeaderValue(1000, 1999), 1000, 1999), (new RangeHeaderValue(null, 500), 299_500, 299_999), (new RangeHeaderValue(250_000, null), 250_000, 299_999) })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"/patient/reports/{id}");
            request.Headers.Range = range;
            var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal($"bytes {from}-{to}/300000", response.Content.Headers.ContentRange!.ToString());
            Assert.Equal(bytes[from..(to + 1)], await response.Content.ReadAsByteArrayAsync());
        }

        var beyond = new HttpRequestMessage(HttpMethod.Get, $"/api/reports/download/{id}/");
        beyond.Headers.Range = new RangeHeaderValue(400_000, null);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, (await client.SendAsync(beyond)).StatusCode);
        // Only the first GET (from byte 0: none here) counts; the continuations are download_part events.
        Assert.Equal(0, await _factory.WithDbAsync(db => db.PatientReports.Where(r => r.Id == id).Select(r => r.DownloadCount).SingleAsync()));
    }

    [Fact]
    public async Task The_integrity_check_hashes_each_object_and_flags_a_changed_one()
    {
        var p = await _factory.Data.PatientAsync();
        var intact = await _factory.Data.ReportAsync(p, "Intact", content: Pdf(20_000, seed: 5));
        var changed = await _factory.Data.ReportAsync(p, "Modifié", content: Pdf(20_000, seed: 6));
        // Same size, one byte different: only a hash of the content tells.
        var altered = Pdf(20_000, seed: 6);
        altered[^1] ^= 0xFF;
        using (var s3 = _factory.S3.Client())
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = S3Server.Bucket, Key = await StoredNameAsync(changed), InputStream = new MemoryStream(altered) });

        var problems = await _factory.WithScopeAsync(sp => IntegrityCheck.RunAsync(sp.GetRequiredService<CimefDb>(), sp.GetRequiredService<ReportStore>(), _factory.Time.GetUtcNow().UtcDateTime));

        Assert.Contains(problems, x => x.ReportId == changed && x.Status == FileIntegrity.Altered);
        Assert.DoesNotContain(problems, x => x.ReportId == intact);
        Assert.Equal(FileIntegrity.Ok, await _factory.WithDbAsync(db => db.PatientReports.Where(r => r.Id == intact).Select(r => r.Integrity).SingleAsync()));
        Assert.True(await _factory.WithDbAsync(db => db.Alerts.AnyAsync(a => a.Subject == $"rapport {changed}" && a.Kind == AlertKinds.ReportFile)));
    }

    [Fact]
    public async Task The_start_up_clean_up_never_removes_a_stored_object()
    {
        var p = await _factory.Data.PatientAsync();
        var id = await _factory.Data.ReportAsync(p);
        // s3rver cannot list unfinished multipart uploads (NotImplemented): the clean-up says so and removes nothing.
        Assert.Equal(0, await _factory.Services.GetRequiredService<ReportStore>().CleanupTempFilesAsync());
        Assert.Contains(await StoredNameAsync(id), await ObjectsAsync());
    }

    /// <summary>Serves its bytes, then fails (not an IOException, which the publisher reports as a storage failure).</summary>
    private sealed class FailingStream(byte[] bytes, int failAfter) : MemoryStream(bytes)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (Position >= failAfter) throw new InvalidOperationException("Simulated client failure mid-upload.");
            return await base.ReadAsync(buffer[..(int)Math.Min(buffer.Length, failAfter - Position)], ct);
        }
    }
}
