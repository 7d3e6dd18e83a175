using Cimef.Site.Languages;
using Cimef.Site.Reports;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Imaging;

/// <summary>What the patient's and the share's images pages have in common: load the page, count the first view, or the 503.</summary>
public static class StudyPages
{
    public sealed record Result(StudyView? View, string? Message);

    public static async Task<Result> LoadAsync(PageModel page, ImagingStudy study, int? number, string basePath, string archiveUrl, ReportDelivery.Recipient to)
    {
        var http = page.HttpContext;
        var services = http.RequestServices;
        try
        {
            var view = await StudyView.LoadAsync(services.GetRequiredService<OrthancClient>(), study, number ?? 1,
                services.GetRequiredService<IOptions<ImagingOptions>>().Value.ImagesPerPage, basePath, archiveUrl, http.RequestAborted);
            if (view.Page == 1 && number is null or 1)
                await services.GetRequiredService<StudyDelivery>().CountViewAsync(http, study, to, http.RequestAborted);
            return new Result(view, null);
        }
        catch (OrthancClient.UnavailableException)
        {
            http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            http.Response.Headers.RetryAfter = ImagingSetup.RetryAfterSeconds;
            return new Result(null, PatientText.Get("images_unavailable"));
        }
    }
}
