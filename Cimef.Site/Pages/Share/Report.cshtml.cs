using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Pages.Share;

/// <summary>
/// The shared report's file for the doctor who typed the code (<c>/s/{token}/rapport/{id}</c>): only the share's own
/// report (any other id is a 404), range support, <c>no-store</c>. A delivery from byte 0 is an AccessEvent
/// <c>share_download</c> (Detail = share id); it does not count in the patient's own download count, which tells the
/// patient how often they fetched it themselves.
/// </summary>
public class ReportModel(ReportShares shares, PatientReportFiles files, ReportStore store, CimefDb db, TimeProvider time) : PageModel
{
    public string Message { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(string? token, string? id, string? view)
    {
        Response.Headers.CacheControl = "no-store";
        var share = await shares.FindValidAsync(token, HttpContext.RequestAborted);
        if (share is null || !shares.HasSession(Request, share)
            || id != share.ReportId.ToString(System.Globalization.CultureInfo.InvariantCulture))
            return Fail(StatusCodes.Status404NotFound, OpenModel.Invalid);
        var report = share.Report;
        if (report.Integrity is FileIntegrity.Missing or FileIntegrity.Altered) return Fail(StatusCodes.Status503ServiceUnavailable, PatientMessages.FileUnavailable);
        ReportStore.OpenedFile? file;
        try
        {
            file = await store.OpenReadAsync(report.StoredFileName, HttpContext.RequestAborted);
        }
        catch (ReportStore.UnavailableException)
        {
            file = null;
        }
        if (file is null) return Fail(StatusCodes.Status503ServiceUnavailable, PatientMessages.FileUnavailable);
        Response.RegisterForDisposeAsync(file.Content);
        if (PatientReportFiles.DeliveryOf(Request, file.Length, file.LastModified.UtcDateTime) == PatientReportFiles.Delivery.FromStart)
        {
            Audit.Patient(db, HttpContext, time.GetUtcNow().UtcDateTime, AccessEventKinds.ShareDownload, share.PatientAccessId, report.Id, detail: ReportShares.Detail(share));
            await db.SaveChangesAsync(HttpContext.RequestAborted);
        }
        Response.Headers.ContentDisposition = files.ContentDisposition(report, inline: view is "1" or "true");
        return new ReportResponse(file, report.ContentType);
    }

    private PageResult Fail(int status, string message)
    {
        Response.StatusCode = status;
        if (status == StatusCodes.Status503ServiceUnavailable) Response.Headers.RetryAfter = "3600";
        Message = message;
        return Page();
    }
}
