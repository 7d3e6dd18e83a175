using Cimef.Site.Access;
using Cimef.Site.Data;
using Cimef.Site.Languages;
using Dapper;
using Microsoft.EntityFrameworkCore;
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
/// (<see cref="ReadsPatientReportsAttribute"/>); the view event is group-committed after the response. The language
/// switch used here is saved on the patient.
/// </summary>
[ReadsPatientReports]
public class DashboardModel(AccessEventBatch events, TimeProvider time, CimefDb db, SqliteWriteGate gate) : PageModel
{
    public PatientSessions.Profile Patient { get; private set; } = null!;
    public IReadOnlyList<PatientReportFiles.Row> Reports { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        Response.Headers.CacheControl = "no-cache, no-store"; // as antiforgery wants it (no warning per request)
        var data = HttpContext.Features.GetRequiredFeature<PatientDashboardData>();
        Patient = data.Profile;
        Reports = data.Reports;
        await SaveLanguageAsync();
        events.Enqueue(Audit.PatientEvent(HttpContext, time.GetUtcNow().UtcDateTime, AccessEventKinds.ReportList, User.AccessId()));
        return this.PageOrPartial("_Reports", this);
    }

    /// <summary>The language switch used while signed in (?lang=): saved on the patient, one UPDATE only when it changed.</summary>
    private async Task SaveLanguageAsync()
    {
        if (PatientLanguages.Normalize(Request.Query["lang"]) is not { } language || language == (Patient.Language ?? PatientLanguages.French)) return;
        using (await gate.EnterAsync(db, HttpContext.RequestAborted))
            await db.Database.GetDbConnection().ExecuteAsync(new CommandDefinition(
                """UPDATE "Patients" SET "Language" = @language WHERE "Id" = @id""",
                new { language, id = User.PatientId() }, cancellationToken: HttpContext.RequestAborted));
    }
}
