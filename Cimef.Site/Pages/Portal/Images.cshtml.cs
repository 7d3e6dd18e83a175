using Cimef.Site.Access;
using Cimef.Site.Portal;
using Cimef.Site.Imaging;
using Cimef.Site.Reports;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Pages.Portal;

/// <summary>
/// One of the patient's released studies: its series with a thumbnail each, one page of images (lazy, no script),
/// and the whole study as a ZIP. The first page counts as a view; the PACS away answers the French 503.
/// </summary>
public class ImagesModel(IOptions<ImagingOptions> options, IServiceProvider services) : PageModel
{
    public StudyView? View { get; private set; }
    public string? Message { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? id, int? n)
    {
        Response.Headers.CacheControl = "no-store";
        if (!options.Value.Enabled) return NotFound();
        var release = services.GetRequiredService<StudyRelease>();
        var study = await release.FindAsync(User.PatientId(), id, HttpContext.RequestAborted);
        if (study is null) return NotFound();
        var result = await StudyPages.LoadAsync(this, study, n, $"{PatientRoutes.Images}/{study.Id}",
            // The ZIP from the API route: a long download on a slow line holds none of the patient pages' permits.
            $"/api/studies/{study.Id}/archive/", new ReportDelivery.Patient(User.AccessId()));
        View = result.View;
        Message = result.Message;
        return Page();
    }
}
