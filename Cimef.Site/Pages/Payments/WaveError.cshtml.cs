using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Pages.Payments;

/// <summary>Where Wave sends the patient when the payment fails (error_url). Anonymous, no patient data.</summary>
public class WaveErrorModel : PageModel
{
    public void OnGet() => Response.Headers.CacheControl = "no-store";
}
