using Cimef.Site.Reports;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Cimef.Site.Portal;

namespace Cimef.Site.Pages.Share;

/// <summary>
/// The shared report's file for the doctor who typed the code (<c>/s/{token}/rapport/{id}</c>): only the share's own
/// report (any other id is a 404); the file itself is served by <see cref="ReportDelivery"/> (range support,
/// <c>no-store</c>, a delivery from byte 0 recorded as the AccessEvent <c>share_download</c>).
/// </summary>
public class ReportModel(ReportShares shares, ReportDelivery delivery) : PageModel
{
    public string Message { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(string? token, string? id, string? view)
    {
        Response.Headers.CacheControl = "no-store";
        var share = await shares.FindValidAsync(token, HttpContext.RequestAborted);
        if (share is null || !shares.HasSession(Request, share)
            || id != share.ReportId.ToString(System.Globalization.CultureInfo.InvariantCulture))
            return Fail(StatusCodes.Status404NotFound, OpenModel.Invalid);
        var result = await delivery.ServeAsync(HttpContext, share.Report, new ReportDelivery.Share(share.PatientAccessId, ReportShares.Detail(share)),
            view is "1" or "true" ? ReportDelivery.Form.Inline : ReportDelivery.Form.Attachment, HttpContext.RequestAborted);
        switch (result.Outcome)
        {
            case ReportDelivery.Outcome.Ok:
                await result.Response!.ExecuteAsync(HttpContext);
                return new EmptyResult();
            case ReportDelivery.Outcome.Gone:
                return Fail(StatusCodes.Status404NotFound, OpenModel.Invalid);
            default:
                return Fail(StatusCodes.Status503ServiceUnavailable, PatientMessages.FileUnavailable);
        }
    }

    private PageResult Fail(int status, string message)
    {
        Response.StatusCode = status;
        if (status == StatusCodes.Status503ServiceUnavailable) Response.Headers.RetryAfter = "3600";
        Message = message;
        return Page();
    }
}
