using Cimef.Site.Languages;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Cimef.Site.Portal;

namespace Cimef.Site.Pages.Portal;

/// <summary>
/// « Clé ou mot de passe perdu ? », step 1 (<see cref="PatientRecovery"/>): the mobile number (or e-mail address)
/// registered at the clinic. The same answer follows whether it is known or not: the code page.
/// </summary>
[AllowAnonymous]
[EnableRateLimiting(RateLimits.PatientLogin)]
public class RecoverModel(PatientRecovery recovery) : PageModel
{
    [BindProperty] public string? Phone { get; set; }
    [BindProperty] public string? Email { get; set; }

    public string? Error { get; private set; }

    public void OnGet() => Response.Headers.CacheControl = "no-cache, no-store";

    public async Task<IActionResult> OnPostAsync()
    {
        Response.Headers.CacheControl = "no-cache, no-store";
        var contact = Phone is { Length: > 40 } || Email is { Length: > 254 } ? null : PatientRecovery.ParseContact(Phone, Email);
        if (contact is null)
        {
            Error = PatientText.Get("recover_contact_invalid");
            return Page();
        }
        var (outcome, retryAfter) = await recovery.RequestAsync(contact, HttpContext.RequestAborted);
        if (outcome == PatientRecovery.RequestOutcome.TooMany)
        {
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Error = PatientText.Get("recover_too_many");
            return Page();
        }
        recovery.WriteProgress(Response, contact.Normalized, null);
        return Redirect(PatientRoutes.RecoverCode);
    }
}
