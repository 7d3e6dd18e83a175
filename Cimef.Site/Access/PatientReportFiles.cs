using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Access;

/// <summary>
/// The download rules shared by /patient/reports/{id} and /api/reports/download/{id}/: ownership from the
/// session only (another patient's report = a made-up id = 404), withdrawn or expired = 410, file missing
/// or altered = 503 + alert, otherwise the file. A full download counts once; a Range continuation or HEAD
/// does not. Exactly one AccessEvent per request that is not a continuation.
/// </summary>
public sealed class PatientReportFiles(CimefDb db, ReportStore store, TimeProvider time)
{
    public enum Outcome { Ok, NotFound, Gone, Unavailable }

    public sealed record Result(Outcome Outcome, string? Path = null, PatientReport? Report = null);

    public async Task<Result> OpenAsync(HttpContext http, int accessId, string? idText, CancellationToken ct = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        PatientReport? report = null;
        if (int.TryParse(idText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) && id > 0)
            report = await db.PatientReports.SingleOrDefaultAsync(r => r.Id == id && r.PatientAccessId == accessId, ct);
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
        var path = store.FullPath(report.StoredFileName);
        if (report.Integrity is FileIntegrity.Missing or FileIntegrity.Altered || !File.Exists(path))
        {
            Audit.Patient(db, http, now, AccessEventKinds.FileMissing, accessId, report.Id);
            await Alerts.RaiseAsync(db, AlertLevel.Critical, "report_file_missing", $"rapport {report.Id}",
                $"Le fichier du rapport {report.Id} est introuvable ou altéré ; un patient n'a pas pu le télécharger.", now, ct);
            await db.SaveChangesAsync(ct);
            return new Result(Outcome.Unavailable);
        }

        if (IsFullDownload(http.Request))
        {
            await db.PatientReports.Where(r => r.Id == report.Id).ExecuteUpdateAsync(u => u
                .SetProperty(r => r.DownloadCount, r => r.DownloadCount + 1)
                .SetProperty(r => r.LastDownloadAt, now), ct);
            Audit.Patient(db, http, now, AccessEventKinds.Download, accessId, report.Id);
            await db.SaveChangesAsync(ct);
        }
        return new Result(Outcome.Ok, path, report);
    }

    /// <summary>A GET without a Range header, or one asking from byte 0 to the end, is a (new) full download.</summary>
    public static bool IsFullDownload(HttpRequest request)
    {
        if (!HttpMethods.IsGet(request.Method)) return false;
        var range = request.Headers.Range.ToString();
        return range.Length == 0 || range.Replace(" ", "") == "bytes=0-";
    }

    /// <summary>RFC 6266 header: an ASCII fallback plus filename* in UTF-8.</summary>
    public static string ContentDisposition(PatientReport report, bool inline)
    {
        var header = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue(inline ? "inline" : "attachment");
        header.SetHttpFileName(DownloadName(report));
        return header.ToString();
    }

    /// <summary>"Compte rendu IRM genou - 25-11-2026.pdf": the report's title and date, never the stored name.</summary>
    public static string DownloadName(PatientReport report)
    {
        var ext = System.IO.Path.GetExtension(report.StoredFileName);
        var title = new string(report.Title.Select(c => char.IsControl(c) || "\\/:*?\"<>|".Contains(c) ? ' ' : c).ToArray()).Trim();
        if (title.Length > 80) title = title[..80].Trim();
        return $"{(title.Length == 0 ? "rapport" : title)} - {Web.Fr.Local(report.CreatedAt):dd-MM-yyyy}{ext}";
    }

    private static string Truncate(string? s) => string.IsNullOrEmpty(s) ? "" : s.Length <= 40 ? s : s[..40];
}
