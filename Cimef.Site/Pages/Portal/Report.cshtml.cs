using Cimef.Site.Reports;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Cimef.Site.Portal;

namespace Cimef.Site.Pages.Portal;

/// <summary>Downloads (or, with ?view=1, opens for viewing/printing) one of the session's patient's reports.</summary>
[PatientSide(Download = true)]
public class ReportModel(PatientReportFiles files) : PageModel
{
    public string Message { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(string? id, string? view)
    {
        Response.Headers.CacheControl = "no-store";
        var result = await files.OpenAsync(HttpContext, User.AccessId(), id,
            view is "1" or "true" ? ReportDelivery.Form.Inline : ReportDelivery.Form.Attachment, HttpContext.RequestAborted);
        switch (result?.Outcome)
        {
            case ReportDelivery.Outcome.Ok:
                await result.Response!.ExecuteAsync(HttpContext);
                return new EmptyResult();
            case ReportDelivery.Outcome.Gone:
                Response.StatusCode = StatusCodes.Status410Gone;
                Message = PatientMessages.ReportGone;
                break;
            case ReportDelivery.Outcome.Unavailable:
                Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                Response.Headers.RetryAfter = "3600";
                Message = PatientMessages.FileUnavailable;
                break;
            default:
                Response.StatusCode = StatusCodes.Status404NotFound;
                Message = PatientMessages.ReportNotFound;
                break;
        }
        return Page();
    }
}
