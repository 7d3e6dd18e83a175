using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Reports;
using Cimef.Site.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Imaging;

/// <summary>
/// The one place that serves a study to whoever may see it (the patient's page and API, a doctor's share), accounted
/// as <see cref="ReportDelivery"/> accounts a report: the first page of the images and an archive delivered from byte
/// 0 add one to the study's counts and write an AccessEvent committed (group commit) before the bytes are sent; a
/// later page or a Range continuation writes nothing. The ZIP comes from Orthanc's archive the first time, streamed
/// into the report store (constant memory), and from the store after that, so a resumed download uses ranges.
/// </summary>
public sealed class StudyDelivery(CimefDb db, OrthancClient orthanc, ReportStore store, AccessEventBatch events, TimeProvider time)
{
    public const string ArchiveType = "application/zip";

    public static string Detail(ImagingStudy study, ReportDelivery.Recipient to) =>
        $"examen {study.Id}" + (to is ReportDelivery.Share s ? ", partage " + s.ShareId : "");

    private static int AccessOf(ReportDelivery.Recipient to) => to switch
    {
        ReportDelivery.Patient p => p.AccessId,
        ReportDelivery.Share s => s.AccessId,
        _ => throw new ArgumentOutOfRangeException(nameof(to)),
    };

    /// <summary>The images' first page was opened: counted and recorded before the page is sent.</summary>
    public async Task CountViewAsync(HttpContext http, ImagingStudy study, ReportDelivery.Recipient to, CancellationToken ct)
    {
        await db.ImagingStudies.Where(s => s.Id == study.Id).ExecuteUpdateAsync(u => u.SetProperty(s => s.ViewCount, s => s.ViewCount + 1), ct);
        await events.CommitAsync(Audit.PatientEvent(http, time.GetUtcNow().UtcDateTime, AccessEventKinds.ImagesView, AccessOf(to), detail: Detail(study, to)));
    }

    /// <summary>The study's ZIP as a range-enabled, no-store response; null when the PACS no longer has the study.</summary>
    public async Task<IResult?> ArchiveAsync(HttpContext http, ImagingStudy study, ReportDelivery.Recipient to, CancellationToken ct)
    {
        var file = study.ArchiveFile is { } name ? await store.OpenReadAsync(name, ct) : null;
        if (file is null)
        {
            var stored = await FetchAsync(study, ct);
            if (stored is null) return null;
            file = await store.OpenReadAsync(stored, ct);
            if (file is null) return null;
        }
        http.Response.RegisterForDisposeAsync(file.Content);
        var delivery = ReportDelivery.DeliveryOf(http.Request, file.Length, file.LastModified.UtcDateTime);
        if (delivery == ReportDelivery.Delivery.FromStart)
        {
            await db.ImagingStudies.Where(s => s.Id == study.Id)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.ArchiveDownloadCount, s => s.ArchiveDownloadCount + 1), ct);
            await events.CommitAsync(Audit.PatientEvent(http, time.GetUtcNow().UtcDateTime, AccessEventKinds.ImagesDownload, AccessOf(to),
                detail: Detail(study, to)));
        }
        http.Response.Headers.CacheControl = "no-store";
        var header = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue("attachment");
        header.SetHttpFileName(DownloadName(study));
        http.Response.Headers.ContentDisposition = header.ToString();
        return new ReportResponse(file, ArchiveType);
    }

    /// <summary>
    /// A ZIP from its first byte (a local file header) to its last (the end-of-central-directory record and its
    /// comment): neither an error page nor an archive cut off midway is ever kept or served.
    /// </summary>
    private async Task<bool> IsWholeZipAsync(string storedName, CancellationToken ct)
    {
        var file = await store.OpenReadAsync(storedName, ct);
        if (file is null) return false;
        await using var content = file.Content;
        if (file.Length < 26) return false;
        var head = new byte[4];
        await content.ReadExactlyAsync(head, ct);
        var tail = new byte[(int)Math.Min(file.Length, 22 + 1024)];
        content.Seek(-tail.Length, SeekOrigin.End);
        await content.ReadExactlyAsync(tail, ct);
        var end = tail.AsSpan().LastIndexOf("PK\u0005\u0006"u8);
        return head.AsSpan().SequenceEqual("PK\u0003\u0004"u8) && end >= 0 && end + 22 <= tail.Length
            && end + 22 + (tail[end + 20] | tail[end + 21] << 8) == tail.Length;
    }

    /// <summary>"Examen CT 25-11-2026 (DICOM).zip".</summary>
    public static string DownloadName(ImagingStudy study) =>
        $"Examen {(study.Modality.Length == 0 ? "" : study.Modality.Replace('/', '-') + " ")}{study.StudyDate:dd-MM-yyyy} (DICOM).zip".Replace("  ", " ");

    /// <summary>
    /// Streams Orthanc's ZIP into the store and records its name and exact size; when another request stored it first,
    /// this copy is deleted and theirs kept. Returns the stored name.
    /// </summary>
    private async Task<string?> FetchAsync(ImagingStudy study, CancellationToken ct)
    {
        var previous = study.ArchiveFile;
        await using var zip = await orthanc.ArchiveAsync(study.OrthancId, ct);
        if (zip is null) return null;
        ReportStore.StoredFile saved;
        try
        {
            saved = await store.SaveAsync(zip, "zip", ct);
        }
        catch (IOException e) when (e is not ReportStore.UnavailableException)
        {
            throw new OrthancClient.UnavailableException("Orthanc's archive broke off: " + e.Message, e);
        }
        if (!await IsWholeZipAsync(saved.StoredFileName, ct))
        {
            await store.DeleteAsync(saved.StoredFileName, ct);
            throw new OrthancClient.UnavailableException("Orthanc's archive is not a whole ZIP file.");
        }
        var won = await db.ImagingStudies.Where(s => s.Id == study.Id && s.ArchiveFile == previous)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.ArchiveFile, saved.StoredFileName).SetProperty(s => s.ArchiveBytes, saved.Size), ct) == 1;
        if (won)
        {
            study.ArchiveFile = saved.StoredFileName;
            study.ArchiveBytes = saved.Size;
            return saved.StoredFileName;
        }
        await store.DeleteAsync(saved.StoredFileName, ct);
        return await db.ImagingStudies.Where(s => s.Id == study.Id).Select(s => s.ArchiveFile).FirstAsync(ct);
    }
}
