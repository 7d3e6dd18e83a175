using System.Globalization;
using System.Security.Cryptography;
using System.Text;
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
using Microsoft.Net.Http.Headers;

namespace Cimef.Site.Pages.Portal;

/// <summary>
/// The patient's own page: profile, permanent access, their available reports (htmx refresh of the list). The
/// session check, the profile, the list and this month's downloaded bytes are one database round trip, made by the
/// patient authentication (<see cref="ReadsPatientReportsAttribute"/>); the view event is group-committed after the
/// response. The htmx refresh is conditional (issue 15): its ETag covers what the fragment shows, so an unchanged
/// list costs a 304 with no body. The language switch used here is saved on the patient.
/// </summary>
[ReadsPatientReports]
public class DashboardModel(AccessEventBatch events, TimeProvider time, CredentialProtector protector, CimefDb db, SqliteWriteGate gate) : PageModel
{
    /// <summary>Changes with every build, so new markup is never answered with an old fragment's 304.</summary>
    private static readonly string Build = typeof(DashboardModel).Assembly.ManifestModule.ModuleVersionId.ToString("N");

    public PatientSessions.Profile Patient { get; private set; } = null!;
    public IReadOnlyList<PatientReportFiles.Row> Reports { get; private set; } = [];
    public long MonthDownloadedBytes { get; private set; }
    /// <summary>The phone cache of this patient's offline copies (an opaque per-access name, see <see cref="CredentialProtector.OfflineCacheName"/>).</summary>
    public string OfflineCache { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync()
    {
        var data = HttpContext.Features.GetRequiredFeature<PatientDashboardData>();
        Patient = data.Profile;
        Reports = data.Reports;
        MonthDownloadedBytes = data.MonthDownloadedBytes;
        await SaveLanguageAsync();
        var accessId = User.AccessId();
        OfflineCache = protector.OfflineCacheName(accessId);
        events.Enqueue(Audit.PatientEvent(HttpContext, time.GetUtcNow().UtcDateTime, AccessEventKinds.ReportList, accessId));
        if (!Request.WantsFragment())
        {
            Response.Headers.CacheControl = "no-cache, no-store"; // as antiforgery wants it (no warning per request)
            return this.PageOrPartial("_Reports", this);
        }
        // The fragment carries no antiforgery token: the browser may keep it, but must ask again every time.
        var etag = new EntityTagHeaderValue(FragmentTag(accessId), isWeak: true);
        Response.Headers.CacheControl = "private, no-cache";
        Response.Headers.ETag = etag.ToString();
        if (Request.GetTypedHeaders().IfNoneMatch is { Count: > 0 } tags && tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Compare(etag, useStrongComparison: false)))
        {
            Response.Headers.Append("Vary", "HX-Request");
            return StatusCode(StatusCodes.Status304NotModified);
        }
        return this.PageOrPartial("_Reports", this);
    }

    /// <summary>A hash of everything the fragment shows: the build, the language, the patient, the month's total and each row.</summary>
    private string FragmentTag(int accessId)
    {
        var text = new StringBuilder().Append(Build).Append('|').Append(CultureInfo.CurrentUICulture.Name).Append('|')
            .Append(accessId).Append('|').Append(MonthDownloadedBytes);
        foreach (var r in Reports)
            text.Append('|').Append(r.Id).Append(';').Append(r.Title).Append(';').Append(r.CreatedAt.Ticks).Append(';').Append(r.ContentType)
                .Append(';').Append(r.Size).Append(';').Append(r.DownloadCount).Append(';').Append(r.Integrity);
        return "\"" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())), 0, 18).Replace('+', '-').Replace('/', '_') + "\"";
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
