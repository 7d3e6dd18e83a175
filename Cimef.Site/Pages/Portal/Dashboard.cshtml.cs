using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Pages.Portal;

/// <summary>The patient's own page: profile, permanent access, their available reports (htmx refresh of the list).</summary>
public class DashboardModel(CimefDb db, PatientReportFiles files, AccessEventBatch events, TimeProvider time) : PageModel
{
    public sealed record Profile(string FullName, string Phone, int AccessCount, DateTime? LastAccess);

    public Profile Patient { get; private set; } = null!;
    public IReadOnlyList<PatientReportFiles.Row> Reports { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        var accessId = User.AccessId();
        Response.Headers.CacheControl = "no-cache, no-store"; // as antiforgery wants it (no warning per request)

        Patient = await db.PatientAccesses.AsNoTracking().Where(a => a.Id == accessId)
            .Select(a => new Profile(a.Patient.FullName, a.Patient.Phone, a.AccessCount, a.LastAccess))
            .SingleAsync();
        Reports = await files.AvailableAsync(accessId, time.GetUtcNow().UtcDateTime);

        events.Enqueue(Audit.PatientEvent(HttpContext, time.GetUtcNow().UtcDateTime, AccessEventKinds.ReportList, accessId));
        return this.PageOrPartial("_Reports", this);
    }
}
