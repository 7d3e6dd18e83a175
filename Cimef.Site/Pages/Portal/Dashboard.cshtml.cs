using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Pages.Portal;

/// <summary>
/// The patient's own page: profile, permanent access, their available reports (htmx refresh of the list). The
/// session check, the profile and the list are one database round trip, made by the patient authentication
/// (<see cref="ReadsPatientReportsAttribute"/>); the view event is group-committed after the response.
/// </summary>
[ReadsPatientReports]
public class DashboardModel(AccessEventBatch events, TimeProvider time) : PageModel
{
    public PatientSessions.Profile Patient { get; private set; } = null!;
    public IReadOnlyList<PatientReportFiles.Row> Reports { get; private set; } = [];

    public IActionResult OnGet()
    {
        Response.Headers.CacheControl = "no-cache, no-store"; // as antiforgery wants it (no warning per request)
        var data = HttpContext.Features.GetRequiredFeature<PatientDashboardData>();
        Patient = data.Profile;
        Reports = data.Reports;
        events.Enqueue(Audit.PatientEvent(HttpContext, time.GetUtcNow().UtcDateTime, AccessEventKinds.ReportList, User.AccessId()));
        return this.PageOrPartial("_Reports", this);
    }
}
