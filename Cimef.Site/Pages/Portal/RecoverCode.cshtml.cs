using Cimef.Site.Languages;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Cimef.Site.Portal;

namespace Cimef.Site.Pages.Portal;

/// <summary>
/// « Clé ou mot de passe perdu ? », step 2: « Si ce numéro est enregistré chez CIMEF, un code vient de vous être
/// envoyé » and the code field (Android offers the code from the SMS: one-time-code). The right code opens the choice.
/// </summary>
[AllowAnonymous]
[EnableRateLimiting(RateLimits.PatientLogin)]
public class RecoverCodeModel(PatientRecovery recovery, IOptions<PortalOptions> portal) : PageModel
{
    [BindProperty] public string? Code { get; set; }

    public string? Error { get; private set; }
    public bool ByEmail { get; private set; }
    public int Minutes => portal.Value.RecoveryCodeMinutes;

    public IActionResult OnGet()
    {
        Response.Headers.CacheControl = "no-cache, no-store";
        return Load() is null ? Redirect(PatientRoutes.Recover) : Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        Response.Headers.CacheControl = "no-cache, no-store";
        if (Load() is not { } contact) return Redirect(PatientRoutes.Recover);
        var verified = await recovery.VerifyAsync(contact, Code?.Trim(), HttpContext.RequestAborted);
        if (verified is not { } v)
        {
            Error = PatientText.Get("recover_code_wrong");
            Code = null;
            return Page();
        }
        recovery.WriteProgress(Response, contact.Normalized, v.Token);
        return Redirect(PatientRoutes.RecoverChoose);
    }

    private PatientRecovery.Contact? Load()
    {
        var contact = PatientRecovery.Contact.FromNormalized(recovery.ReadProgress(Request)?.Contact);
        ByEmail = contact?.IsEmail == true;
        return contact;
    }
}
