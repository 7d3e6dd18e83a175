using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Pages.Portal;

/// <summary>The patient's own page: profile, permanent access, their available reports (htmx refresh of the list).</summary>
public class DashboardModel(CimefDb db, AccessEventBatch events, TimeProvider time) : PageModel
{
    public sealed record Profile(string FullName, string Phone, int AccessCount, DateTime? LastAccess);

    public sealed record Row(int Id, string Title, DateTime CreatedAt, string ContentType, long Size, int DownloadCount, FileIntegrity Integrity)
    {
        public bool Available => Integrity is not (FileIntegrity.Missing or FileIntegrity.Altered);
        public string FileType => FileTypes.Label(ContentType);
    }

    public Profile Patient { get; private set; } = null!;
    public IReadOnlyList<Row> Reports { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        var auth = await HttpContext.AuthenticateAsync(AuthSchemes.Patient);
        if (!auth.Succeeded) return Challenge(AuthSchemes.Patient);
        var accessId = auth.Principal.AccessId();
        Response.Headers.CacheControl = "no-cache, no-store"; // as antiforgery wants it (no warning per request)

        Patient = await db.PatientAccesses.AsNoTracking().Where(a => a.Id == accessId)
            .Select(a => new Profile(a.Patient.FullName, a.Patient.Phone, a.AccessCount, a.LastAccess))
            .SingleAsync();
        Reports = await AvailableReportsAsync(db, accessId, time.GetUtcNow().UtcDateTime);

        events.Enqueue(Audit.PatientEvent(HttpContext, time.GetUtcNow().UtcDateTime, AccessEventKinds.ReportList, accessId));
        return this.PageOrPartial("_Reports", this);
    }

    /// <summary>The session's patient's active, unexpired reports, newest first (shared with the JSON API).</summary>
    public static async Task<IReadOnlyList<Row>> AvailableReportsAsync(CimefDb db, int accessId, DateTime now) =>
        await db.PatientReports.AsNoTracking()
            .Where(r => r.PatientAccessId == accessId && r.IsActive && (r.ExpiresAt == null || r.ExpiresAt > now))
            .OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)
            .Select(r => new Row(r.Id, r.Title, r.CreatedAt, r.ContentType, r.Size, r.DownloadCount, r.Integrity))
            .ToListAsync();
}
