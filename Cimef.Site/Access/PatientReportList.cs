using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Access;

/// <summary>The session's patient's report list, shared by the dashboard page and the JSON API.</summary>
public static class PatientReportList
{
    public sealed record Row(int Id, string Title, DateTime CreatedAt, string ContentType, long Size, int DownloadCount, FileIntegrity Integrity)
    {
        public bool Available => Integrity is not (FileIntegrity.Missing or FileIntegrity.Altered);
        public string FileType => FileTypes.Label(ContentType);
    }

    /// <summary>The session's patient's active, unexpired reports, newest first.</summary>
    public static async Task<IReadOnlyList<Row>> AvailableAsync(CimefDb db, int accessId, DateTime now) =>
        await db.PatientReports.AsNoTracking()
            .Where(r => r.PatientAccessId == accessId && r.IsActive && (r.ExpiresAt == null || r.ExpiresAt > now))
            .OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)
            .Select(r => new Row(r.Id, r.Title, r.CreatedAt, r.ContentType, r.Size, r.DownloadCount, r.Integrity))
            .ToListAsync();
}
