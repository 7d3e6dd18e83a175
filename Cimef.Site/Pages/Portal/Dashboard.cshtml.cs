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
using Cimef.Site.Portal;
using Cimef.Site.Reports;

namespace Cimef.Site.Pages.Portal;

/// <summary>
/// The patient's own page: profile, permanent access, their available reports (htmx refresh of the list). The
/// session check, the profile, the list and this month's downloaded bytes are one database round trip, made by the
/// patient authentication (<see cref="ReadsPatientReportsAttribute"/>); the view event is group-committed after the
/// response. The htmx refresh is conditional: its ETag covers what the fragment shows, so an unchanged
/// list costs a 304 with no body. The language switch used here is saved on the patient.
/// </summary>
[ReadsPatientReports]
[RenderedDashboards.Keep]
public class DashboardModel(AccessEventBatch events, TimeProvider time, CredentialProtector protector,
    RenderedDashboards rendered, PatientSessions sessions) : PageModel
{
    /// <summary>Changes with every build, so new markup is never answered with an old fragment's 304.</summary>
    private static readonly string Build = typeof(DashboardModel).Assembly.ManifestModule.ModuleVersionId.ToString("N");

    public PatientSessions.Profile Patient { get; private set; } = null!;
    public IReadOnlyList<PatientReportFiles.Row> Reports { get; private set; } = [];
    public long MonthDownloadedBytes { get; private set; }
    /// <summary>The « Voir les images » links (studies from the PACS), empty when imaging is off.</summary>
    public IReadOnlyList<Imaging.StudyRelease.Link> Studies { get; private set; } = [];
    /// <summary>The phone cache of this patient's offline copies (an opaque per-access name, see <see cref="CredentialProtector.OfflineCacheName"/>).</summary>
    public string OfflineCache => protector.OfflineCacheName(User.AccessId()); // an HMAC: computed only when the page is rendered

    /// <summary>How long the phone's service worker may open this patient's copies offline after the login (the session's absolute cap).</summary>
    public long OfflineLifetimeSeconds => (long)sessions.AbsoluteLifetime.TotalSeconds;

    public async Task<IActionResult> OnGetAsync()
    {
        var data = HttpContext.Features.GetRequiredFeature<PatientDashboardData>();
        Patient = data.Profile;
        Reports = data.Reports;
        MonthDownloadedBytes = data.MonthDownloadedBytes;
        Studies = await Imaging.ImagingSetup.DashboardLinksAsync(HttpContext, Reports.Select(r => r.Id).ToList());
        await SaveLanguageAsync();
        var accessId = User.AccessId();
        events.Enqueue(Audit.PatientEvent(HttpContext, time.GetUtcNow().UtcDateTime, AccessEventKinds.ReportList, accessId));
        if (!Request.WantsFragment())
        {
            Response.Headers.CacheControl = "no-cache, no-store"; // as antiforgery wants it (no warning per request)
            return FullPage(accessId);
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
    private string FragmentTag(int accessId) =>
        "\"" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(FragmentData(accessId))), 0, 18).Replace('+', '-').Replace('/', '_') + "\"";

    private string FragmentData(int accessId)
    {
        var text = new StringBuilder().Append(Build).Append('|').Append(CultureInfo.CurrentUICulture.Name).Append('|')
            .Append(accessId).Append('|').Append(MonthDownloadedBytes);
        foreach (var r in Reports)
            text.Append('|').Append(r.Id).Append(';').Append(r.Title).Append(';').Append(r.CreatedAt.Ticks).Append(';').Append(r.ContentType)
                .Append(';').Append(r.Size).Append(';').Append(r.DownloadCount).Append(';').Append(r.Integrity);
        foreach (var st in Studies) text.Append("|s").Append(st.StudyId).Append(';').Append(st.Images).Append(';').Append(st.ReportId);
        return text.ToString();
    }

    /// <summary>
    /// The full page, rendered once per session and state (<see cref="RenderedDashboards"/>): the key holds the session,
    /// the antiforgery cookie the browser sent (the forms' tokens are bound to it and to the session), the profile and
    /// the fragment's data. A page rendered without that cookie set one; a copy served again sets the same one.
    /// </summary>
    private IActionResult FullPage(int accessId)
    {
        var afCookie = Request.Cookies[RenderedDashboards.AntiforgeryCookie] ?? "";
        var key = RenderedDashboards.Key([
            User.FindFirst(PatientSessions.SessionIdClaim)?.Value ?? "", afCookie,
            Patient.FullName, Patient.Phone, Patient.AccessCount.ToString(CultureInfo.InvariantCulture),
            Patient.LastAccess?.Ticks.ToString(CultureInfo.InvariantCulture) ?? "", FragmentData(accessId)]);
        if (rendered.Find(key) is { } page)
        {
            if (page.SetCookie is not null) Response.Headers.SetCookie = page.SetCookie;
            if (page.FrameOptions is not null) Response.Headers.XFrameOptions = page.FrameOptions;
            Response.Headers.Pragma = "no-cache";
            Response.Headers.Append("Vary", "HX-Request");
            return File(page.Body, "text/html; charset=utf-8");
        }
        // A language switch (?lang=) sets its own cookie and saves the choice: rendered, never kept.
        if (Request.Query.ContainsKey("lang")) return this.PageOrPartial("_Reports", this);
        // Rendered into the response and into the cache at once (RenderedDashboards.KeepAttribute, after the page ran).
        HttpContext.Items[RenderedDashboards.KeyItem] = key;
        return this.PageOrPartial("_Reports", this);
    }


    /// <summary>The language switch used while signed in (?lang=): saved on the patient, one UPDATE only when it changed.</summary>
    private async Task SaveLanguageAsync()
    {
        if (PatientLanguages.Normalize(Request.Query["lang"]) is not { } language || !PatientLanguages.Changes(Patient.Language, language)) return;
        var queries = HttpContext.RequestServices.GetRequiredService<HotQueries>();
        await queries.WriteAsync(() => HttpContext.RequestServices.GetRequiredService<CimefDb>(),
            c => PatientLanguages.SaveAsync(c, User.PatientId(), Patient.Language, language, HttpContext.RequestAborted), HttpContext.RequestAborted);
    }
}
