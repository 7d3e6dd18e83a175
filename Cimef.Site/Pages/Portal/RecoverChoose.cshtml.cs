using Cimef.Site.Access;
using Cimef.Site.Data;
using Cimef.Site.Languages;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Cimef.Site.Portal;

namespace Cimef.Site.Pages.Portal;

/// <summary>
/// « Clé ou mot de passe perdu ? », step 3: the accesses registered to the number (« A. D. — …2KZF »; a closed one
/// « fermé — adressez-vous au cabinet »). The one picked gets a new password, shown once in the POST's answer (never
/// stored, never redirected to) with its key, and the patient is signed in; « Se souvenir de cette clé sur ce
/// téléphone » then remembers the key as the login page does.
/// </summary>
[AllowAnonymous]
[EnableRateLimiting(RateLimits.PatientLogin)]
public class RecoverChooseModel(PatientRecovery recovery, PatientSessions sessions, PhoneCookies phones, CredentialProtector protector, CimefDb db, IOptions<ClinicOptions> clinic) : PageModel
{
    [BindProperty] public int AccessId { get; set; }
    [BindProperty] public bool Remember { get; set; }

    public IReadOnlyList<PatientRecovery.Choice> Choices { get; private set; } = [];
    public string? Error { get; private set; }
    /// <summary>Set only in the answer to the POST that renewed the password.</summary>
    public (string Key, string Password)? Renewed { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        Response.Headers.CacheControl = "no-cache, no-store";
        return await LoadAsync() ? Page() : Expired();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        Response.Headers.CacheControl = "no-store";
        var token = recovery.ReadProgress(Request)?.Token;
        var result = await recovery.ResetAsync(HttpContext, token, AccessId, HttpContext.RequestAborted);
        switch (result.Outcome)
        {
            case PatientRecovery.ResetOutcome.Ok:
                if (result.SessionToken is not null)
                {
                    PatientSessions.WriteCookie(Response, result.SessionToken);
                    // The « Voir mes résultats » form is posted signed in: its antiforgery token is made for that patient.
                    if (await sessions.ValidateAsync(result.SessionToken, ct: HttpContext.RequestAborted) is { Session: var session })
                        HttpContext.User = PatientSessionHandler.Principal(session);
                }
                PatientRecovery.DeleteProgress(Response);
                Renewed = (CredentialGenerator.FormatKey(result.AccessKey!), result.Password!);
                return Page();
            case PatientRecovery.ResetOutcome.BadToken:
                return Expired();
            default:
                Error = result.Outcome == PatientRecovery.ResetOutcome.Closed
                    ? PatientMessages.AccessDisabled(clinic.Value.Phone)
                    : PatientText.Get("recover_not_listed");
                await LoadAsync();
                return Page();
        }
    }

    /// <summary>« Voir mes résultats »: remembers the session's key on this phone when asked, then the dashboard.</summary>
    public async Task<IActionResult> OnPostContinueAsync()
    {
        var auth = await HttpContext.AuthenticateAsync(AuthSchemes.Patient);
        if (!auth.Succeeded) return Redirect(PatientRoutes.Login);
        if (Remember)
        {
            var accessId = auth.Principal!.AccessId();
            var access = await db.PatientAccesses.AsNoTracking().Where(a => a.Id == accessId)
                .Select(a => new { a.AccessKey, a.Patient.FullName }).SingleAsync(HttpContext.RequestAborted);
            var phone = phones.Read(Request) ?? PhoneCookies.NewPhone();
            phones.Issue(Response, phones.Remember(phone, accessId, LoginKey.Of(access.AccessKey, protector), access.FullName));
        }
        return Redirect(PatientRoutes.Dashboard);
    }

    private async Task<bool> LoadAsync()
    {
        var choices = await recovery.ChoicesAsync(recovery.ReadProgress(Request)?.Token, HttpContext.RequestAborted);
        Choices = choices ?? [];
        return choices is not null;
    }

    private IActionResult Expired()
    {
        PatientRecovery.DeleteProgress(Response);
        Error = PatientText.Get("recover_expired");
        Choices = [];
        return Page();
    }
}
