using Cimef.Site.Access;
using Cimef.Site.Imaging;
using Cimef.Site.Reports;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Pages.Share;

/// <summary>
/// The images of the shared report's exam, for the doctor who typed the share's code: the same page as the patient's,
/// for as long as the share is valid; any other study is a 404.
/// </summary>
public class ImagesModel(IOptions<ImagingOptions> options, IServiceProvider services, ReportShares shares) : PageModel
{
    public StudyView? View { get; private set; }
    public string? Message { get; private set; }
    public string Token { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(string? token, string? id, int? n)
    {
        Response.Headers.CacheControl = "no-store";
        if (!options.Value.Enabled) return NotFound();
        var found = await ImagingSetup.ShareStudyAsync(HttpContext, token, id, shares, services.GetRequiredService<StudyRelease>());
        if (found is not var (study, share)) return NotFound();
        Token = token!;
        var result = await StudyPages.LoadAsync(this, study, n, $"/s/{token}/images/{study.Id}", $"/s/{token}/images/{study.Id}/archive",
            new ReportDelivery.Share(share.PatientAccessId, ReportShares.Detail(share)));
        View = result.View;
        Message = result.Message;
        return Page();
    }
}
