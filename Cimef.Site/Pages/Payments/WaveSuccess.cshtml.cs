using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Pages.Payments;

/// <summary>Where Wave sends the patient after paying (success_url). Anonymous and the same for everyone: no patient data.</summary>
public class WaveSuccessModel(IOptions<PortalOptions> portal) : PageModel
{
    public string PortalUrl => portal.Value.Url;

    public void OnGet() => Response.Headers.CacheControl = "no-store";
}
