using System.IO.Compression;
using System.Net;
using System.Text.RegularExpressions;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;

namespace Cimef.Site.Tests.Imaging;

/// <summary>
/// A 2,000-instance study: the page shows one page of images at a time, the ZIP streams without being held in memory.
/// Alone (no other test class running), so the managed heap it samples grows only with this request.
/// </summary>
[Collection(nameof(HugeStudyCollection))]
public sealed class HugeStudyTests(ImagingFixture fixture) : IClassFixture<ImagingFixture>
{
    private CimefFactory Factory => fixture.Factory;

    [OrthancFact]
    public async Task A_study_of_2000_instances_pages_and_its_zip_streams_in_constant_memory()
    {
        var p = await Factory.Data.PatientAsync();
        var (files, orthancId) = await fixture.SendStudyAsync(new DicomStudySpec(p.InvoiceNumber, Series: 2, InstancesPerSeries: 1000, Width: 48, Height: 48));
        var study = await fixture.LinkAsync(orthancId);
        Assert.Equal(2000, study.InstanceCount);
        await Factory.Data.ReportAsync(p);
        var client = await Factory.PatientClientAsync(p);

        var first = await (await client.GetAsync($"/patient/images/{study.Id}")).TextAsync();
        var perPage = 12;
        Assert.Equal(perPage, Regex.Matches(first, $"/patient/images/{study.Id}/i/[0-9a-f-]{{44}}\"").Count); // full-size images of page 1
        Assert.Contains("Page 1 sur 167", first);
        Assert.Contains($"href=\"/patient/images/{study.Id}?n=2\"", first);
        Assert.Contains($"href=\"/patient/images/{study.Id}?n=84\"", first); // the second series starts on page 84
        var last = await client.GetAsync($"/patient/images/{study.Id}?n=167");
        Assert.Equal(HttpStatusCode.OK, last.StatusCode);
        Assert.Equal(2000 - 166 * perPage, Regex.Matches(await last.TextAsync(), $"/patient/images/{study.Id}/i/[0-9a-f-]{{44}}\"").Count);
        Assert.Contains("Page 167 sur 167", await (await client.GetAsync($"/patient/images/{study.Id}?n=99999")).TextAsync());
        Assert.True(Encoding(first) <= 14 * 1024, "the page stays within the first-flight budget");

        // The ZIP: read as it arrives while the server's managed heap is sampled; it never holds the archive.
        GC.Collect();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0;
        using var response = await client.GetAsync($"/api/studies/{study.Id}/archive/", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var length = response.Content.Headers.ContentLength!.Value;
        var path = Path.Combine(fixture.Orthanc.Directory, "huge.zip");
        await using (var output = File.Create(path))
        await using (var input = await response.Content.ReadAsStreamAsync())
        {
            var buffer = new byte[81920];
            int read;
            while ((read = await input.ReadAsync(buffer)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read));
                peak = Math.Max(peak, GC.GetTotalMemory(false) - baseline);
            }
        }
        Assert.Equal(length, new FileInfo(path).Length);
        var dicomBytes = files.Files.Sum(f => new FileInfo(f).Length);
        Assert.True(peak < dicomBytes / 2, $"managed heap grew by {peak} bytes for a {dicomBytes}-byte study");
        using var zip = ZipFile.OpenRead(path);
        Assert.Equal(2000, zip.Entries.Count);
    }

    private static int Encoding(string html) => System.Text.Encoding.UTF8.GetByteCount(html);
}

[CollectionDefinition(nameof(HugeStudyCollection), DisableParallelization = true)]
public sealed class HugeStudyCollection;
