using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Access;

/// <summary>
/// The download rules shared by /patient/reports/{id} and /api/reports/download/{id}/: ownership from the
/// session only (another patient's report = a made-up id = 404), withdrawn or expired = 410, file missing
/// or altered = 503 + alert, otherwise the file. Every GET that delivers report bytes is accounted: one that
/// starts at byte 0 counts as a download (download_count + 1, AccessEvent "download"), a Range continuation
/// writes an AccessEvent "download_part" without counting, so range-only scraping still shows in the audit
/// and the download-burst alert. HEAD (no bytes) and an unsatisfiable range (416) write nothing.
/// Exactly one AccessEvent per request. The list the patient picks from (dashboard, JSON API) follows the same rules
/// (<see cref="PatientSessions"/>' ReportsSql, read with the session check).
/// </summary>
public sealed class PatientReportFiles(IServiceProvider services, ReportStore store, TimeProvider time, ClinicClock clock, HotQueries queries, AccessEventBatch events)
{
    public enum Outcome { Ok, NotFound, Gone, Unavailable }

    /// <summary>The request's context, built only when used: a download on SQLite never needs it.</summary>
    private CimefDb db => field ??= services.GetRequiredService<CimefDb>();

    /// <summary>On Ok, the opened file (disposed with the response).</summary>
    public sealed record Result(Outcome Outcome, ReportStore.OpenedFile? File = null, PatientReport? Report = null);

    public sealed record Row(int Id, string Title, DateTime CreatedAt, string ContentType, long Size, int DownloadCount, FileIntegrity Integrity)
    {
        public bool Available => Integrity is not (FileIntegrity.Missing or FileIntegrity.Altered);
        public string FileType => FileTypes.Label(ContentType);
    }

    public async Task<Result> OpenAsync(HttpContext http, int accessId, string? idText, CancellationToken ct = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        PatientReport? report = null;
        if (int.TryParse(idText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) && id > 0)
            report = await FindAsync(id, accessId, ct);
        if (report is null)
        {
            Audit.Patient(db, http, now, AccessEventKinds.DownloadDenied, accessId, detail: $"id demandé : {Truncate(idText)}");
            await db.SaveChangesAsync(ct);
            return new Result(Outcome.NotFound);
        }
        if (!report.IsActive || report.ExpiresAt <= now)
        {
            Audit.Patient(db, http, now, AccessEventKinds.DownloadGone, accessId, report.Id);
            await db.SaveChangesAsync(ct);
            return new Result(Outcome.Gone);
        }
        ReportStore.OpenedFile? file;
        try
        {
            file = report.Integrity is FileIntegrity.Missing or FileIntegrity.Altered ? null : await store.OpenReadAsync(report.StoredFileName, ct);
        }
        catch (ReportStore.UnavailableException)
        {
            // The object store is down, not the file gone: the same French 503 (« réessayez »), no file alert.
            Audit.Patient(db, http, now, AccessEventKinds.FileMissing, accessId, report.Id, detail: "stockage des rapports injoignable");
            await db.SaveChangesAsync(ct);
            return new Result(Outcome.Unavailable);
        }
        if (file is null)
        {
            Audit.Patient(db, http, now, AccessEventKinds.FileMissing, accessId, report.Id);
            await using var tx = await Alerts.BeginAsync(db, ct);
            await Alerts.RaiseAsync(db, AlertLevel.Critical, AlertKinds.ReportFile, $"rapport {report.Id}",
                $"Le fichier du rapport {report.Id} est introuvable ou altéré ; un patient n'a pas pu le télécharger.", now, ct);
            await db.SaveChangesAsync(ct);
            if (tx is not null) await tx.CommitAsync(ct);
            return new Result(Outcome.Unavailable);
        }

        http.Response.RegisterForDisposeAsync(file.Content);
        switch (DeliveryOf(http.Request, file.Length, file.LastModified.UtcDateTime))
        {
            // Committed (group commit, one transaction with the count) before the bytes are sent.
            case Delivery.FromStart:
                await events.CommitAsync(Audit.PatientEvent(http, now, AccessEventKinds.Download, accessId, report.Id, detail: RangeDetail(http.Request)),
                    countsDownloadOf: report.Id);
                CimefMetrics.Download(file.Length);
                break;
            case Delivery.Continuation:
                await events.CommitAsync(Audit.PatientEvent(http, now, AccessEventKinds.DownloadPart, accessId, report.Id, detail: RangeDetail(http.Request)));
                break;
        }
        return new Result(Outcome.Ok, file, report);
    }

    private const string FindSql = """
        SELECT "Id", "Title", "StoredFileName", "ContentType", "Size", "CreatedAt", "ExpiresAt", "IsActive", "Integrity"
        FROM "PatientReports" WHERE "Id" = @id AND "PatientAccessId" = @access
        """;

    /// <summary>The report if it is this access's (statement compiled once); only the columns a download uses, not tracked.</summary>
    private Task<PatientReport?> FindAsync(int id, int accessId, CancellationToken ct) =>
        queries.ReadAsync(() => db, FindSql, cmd =>
        {
            HotQueries.Add(cmd, "id", id);
            HotQueries.Add(cmd, "access", accessId);
        }, async r => await r.ReadAsync(ct)
            ? new PatientReport
            {
                Id = (int)HotQueries.Long(r, 0), PatientAccessId = accessId, Title = r.GetString(1), StoredFileName = r.GetString(2),
                ContentType = r.GetString(3), Size = HotQueries.Long(r, 4), CreatedAt = HotQueries.Date(r, 5), ExpiresAt = HotQueries.NullableDate(r, 6),
                IsActive = HotQueries.Long(r, 7) != 0, Integrity = Enum.Parse<FileIntegrity>(r.GetString(8)),
            }
            : null, ct);

    public enum Delivery { Nothing, FromStart, Continuation }

    /// <summary>
    /// What the range-enabled file result will send for this request, decided the way ASP.NET Core's range
    /// handling decides it (RangeHelper): the header is ignored (whole file, 200) when it is repeated, holds
    /// several ranges, does not parse, or an If-Range date is older than the file; a range past the end is a
    /// 416 with no bytes; otherwise a 206 from the normalised start. Deciding before sending keeps the count
    /// and the AccessEvent committed by the time the client has the bytes.
    /// </summary>
    public static Delivery DeliveryOf(HttpRequest request, long length, DateTime lastWriteUtc)
    {
        if (!HttpMethods.IsGet(request.Method)) return Delivery.Nothing;
        var raw = request.Headers.Range;
        if (raw.Count == 0 || length == 0) return Delivery.FromStart;
        if (raw.Count > 1 || (raw[0] ?? "").Contains(',')
            || !Microsoft.Net.Http.Headers.RangeHeaderValue.TryParse(raw[0], out var header) || header.Ranges.Count != 1)
            return Delivery.FromStart;
        var ifRange = request.GetTypedHeaders().IfRange;
        var lastModified = new DateTimeOffset(lastWriteUtc.Ticks - lastWriteUtc.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        if (ifRange?.LastModified is { } since && lastModified > since) return Delivery.FromStart;

        var range = header.Ranges.Single();
        long start;
        if (range.From is long from)
        {
            if (from >= length) return Delivery.Nothing;
            start = from;
        }
        else if (range.To is long suffix)
        {
            if (suffix == 0) return Delivery.Nothing;
            start = length - Math.Min(suffix, length);
        }
        else return Delivery.FromStart;
        return start == 0 ? Delivery.FromStart : Delivery.Continuation;
    }

    private static string? RangeDetail(HttpRequest request)
    {
        var range = request.Headers.Range.ToString();
        return range.Length == 0 ? null : "plage " + Truncate(range);
    }

    /// <summary>RFC 6266 header: an ASCII fallback plus filename* in UTF-8.</summary>
    public string ContentDisposition(PatientReport report, bool inline)
    {
        var header = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue(inline ? "inline" : "attachment");
        header.SetHttpFileName(DownloadName(report));
        return header.ToString();
    }

    /// <summary>"Compte rendu IRM genou - 25-11-2026.pdf": the report's title and date, never the stored name.</summary>
    public string DownloadName(PatientReport report)
    {
        var ext = System.IO.Path.GetExtension(report.StoredFileName);
        var title = new string(report.Title.Select(c => char.IsControl(c) || "\\/:*?\"<>|".Contains(c) ? ' ' : c).ToArray()).Trim();
        if (title.Length > 80) title = title[..80].Trim();
        return $"{(title.Length == 0 ? "rapport" : title)} - {clock.ToLocal(report.CreatedAt):dd-MM-yyyy}{ext}";
    }

    private static string Truncate(string? s) => string.IsNullOrEmpty(s) ? "" : s.Length <= 40 ? s : s[..40];
}
