using Cimef.Site.Languages;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Cimef.Site.Portal;
using Cimef.Site.Reports;

namespace Cimef.Site.Pages.Portal;

/// <summary>
/// « Partager avec mon médecin »: choose a duration for one report, see the link and code once (sms: and
/// wa.me links carry the link only, never the code), list the active shares and revoke any at once. The report and
/// the share come from the session's patient only: anyone else's id is a 404.
/// </summary>
[Microsoft.AspNetCore.RateLimiting.EnableRateLimiting(RateLimits.PatientShare)]
public class SharesModel(Data.CimefDb db, ReportShares shares, IOptions<PortalOptions> portal) : PageModel
{
    public sealed record Result(string Link, string Code, string Title, DateTime ExpiresAt)
    {
        public string SmsHref => "sms:?body=" + Uri.EscapeDataString(Message);
        public string WhatsAppHref => "https://wa.me/?text=" + Uri.EscapeDataString(Message);
        private string Message => PatientText.Format("shares_message", Link);
    }

    public IReadOnlyList<ReportShares.Row> Active { get; private set; } = [];
    /// <summary>The report being shared (?report=), when it is the patient's and available.</summary>
    public (int Id, string Title)? Report { get; private set; }
    public Result? Created { get; private set; }
    public string? Error { get; private set; }
    /// <summary>The outcome of an htmx POST, shown in the fragment (a plain form gets it through TempData).</summary>
    public string? Notice { get; private set; }
    [TempData] public string? StatusMessage { get; set; }

    public async Task<IActionResult> OnGetAsync(string? report)
    {
        Response.Headers.CacheControl = "no-cache, no-store";
        if (report is not null && await LoadReportAsync(report) is null) return NotFoundPage();
        await LoadAsync();
        return this.PageOrPartial("_Shares", this);
    }

    public async Task<IActionResult> OnPostCreateAsync(string? report, string? days)
    {
        Response.Headers.CacheControl = "no-store";
        var r = await LoadReportAsync(report);
        if (r is null) return NotFoundPage();
        if (!int.TryParse(days, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var d) || !ReportShares.Durations.Contains(d))
        {
            Error = PatientText.Get("shares_duration_error");
            await LoadAsync();
            return this.PageOrPartial("_Shares", this);
        }
        var created = await shares.CreateAsync(r, d, HttpContext.RequestAborted);
        if (created is null)
        {
            Error = PatientText.Format("shares_limit", ReportShares.MaxActivePerReport);
            await LoadAsync();
            return this.PageOrPartial("_Shares", this);
        }
        // The link and code exist in clear only in this response: shown now, never redirected through TempData.
        Created = new Result(ReportShares.Link(portal.Value, created.Token), created.Code, r.Title, created.Share.ExpiresAt);
        Report = null;
        await LoadAsync();
        return this.PageOrPartial("_Shares", this);
    }

    public async Task<IActionResult> OnPostRevokeAsync(string? id)
    {
        if (!int.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var shareId)
            || !await shares.RevokeAsync(User.AccessId(), shareId, "patient", HttpContext.RequestAborted))
            return NotFoundPage();
        var message = PatientText.Get("shares_revoked");
        if (!Request.WantsFragment())
        {
            StatusMessage = message;
            return RedirectToPage();
        }
        Response.Headers.Append("Vary", "HX-Request");
        Notice = message;
        await LoadAsync();
        return Partial("_Shares", this);
    }

    private async Task<Data.Entities.PatientReport?> LoadReportAsync(string? idText)
    {
        if (!int.TryParse(idText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)) return null;
        var accessId = User.AccessId();
        var now = HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var r = await db.PatientReports.SingleOrDefaultAsync(x => x.Id == id && x.PatientAccessId == accessId && x.IsActive
            && (x.ExpiresAt == null || x.ExpiresAt > now), HttpContext.RequestAborted);
        if (r is not null) Report = (r.Id, r.Title);
        return r;
    }

    private async Task LoadAsync() => Active = await shares.ActiveAsync(User.AccessId(), HttpContext.RequestAborted);

    private IActionResult NotFoundPage()
    {
        Response.StatusCode = StatusCodes.Status404NotFound;
        Error = PatientMessages.ReportNotFound;
        Report = null;
        Active = [];
        return Page();
    }
}
