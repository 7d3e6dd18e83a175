using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using Cimef.Site.Portal;

namespace Cimef.Site.Reports;

/// <summary>
/// The patient's side of /patient/reports/{id} and /api/reports/download/{id}/: ownership from the session only
/// (another patient's report = a made-up id = 404, audited as download_denied), then <see cref="ReportDelivery"/>
/// serves it by the rules every delivery path shares (withdrawn or expired = 410, file missing or altered = 503 +
/// alert, downloads and range continuations accounted). Exactly one AccessEvent per request. The list the patient
/// picks from (dashboard, JSON API) follows the same rules (<see cref="PatientSessions"/>' ReportsSql, read with the
/// session check).
/// </summary>
public sealed class PatientReportFiles(IServiceProvider services, ReportDelivery delivery, TimeProvider time, HotQueries queries)
{
    /// <summary>The request's context, built only when used: a download on SQLite never needs it.</summary>
    private CimefDb db => field ??= services.GetRequiredService<CimefDb>();

    public sealed record Row(int Id, string Title, DateTime CreatedAt, string ContentType, long Size, int DownloadCount, FileIntegrity Integrity)
    {
        public bool Available => ReportDelivery.FileAvailable(Integrity);
        public string FileType => FileTypes.Label(ContentType);
    }

    /// <summary>The report served to the session's patient, or null (and download_denied audited) when it is not theirs.</summary>
    public async Task<ReportDelivery.Result?> OpenAsync(HttpContext http, int accessId, string? idText, ReportDelivery.Form form, CancellationToken ct = default)
    {
        PatientReport? report = null;
        if (int.TryParse(idText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) && id > 0)
            report = await FindAsync(id, accessId, ct);
        if (report is null)
        {
            Audit.Patient(db, http, time.GetUtcNow().UtcDateTime, AccessEventKinds.DownloadDenied, accessId, detail: $"id demandé : {Truncate(idText)}");
            await db.SaveChangesAsync(ct);
            return null;
        }
        return await delivery.ServeAsync(http, report, new ReportDelivery.Patient(accessId), form, ct);
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

    private static string Truncate(string? s) => string.IsNullOrEmpty(s) ? "" : s.Length <= 40 ? s : s[..40];
}
