using System.ComponentModel.DataAnnotations;
using Cimef.Site.Access;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Pages.Portal;

/// <summary>Patient login with the access key and password printed on the invoice (no JavaScript needed).</summary>
[EnableRateLimiting(RateLimits.PatientLogin)]
public class IndexModel(PatientSignIn signIn, IOptions<ClinicOptions> clinic) : PageModel
{
    public sealed class InputModel
    {
        [Required(ErrorMessageResourceType = typeof(PatientMessages), ErrorMessageResourceName = nameof(PatientMessages.KeyRequired))]
        [StringLength(40, ErrorMessageResourceType = typeof(PatientMessages), ErrorMessageResourceName = nameof(PatientMessages.FieldTooLong))]
        public string AccessKey { get; set; } = "";

        [Required(ErrorMessageResourceType = typeof(PatientMessages), ErrorMessageResourceName = nameof(PatientMessages.PasswordRequired))]
        [StringLength(64, ErrorMessageResourceType = typeof(PatientMessages), ErrorMessageResourceName = nameof(PatientMessages.FieldTooLong))]
        public string Password { get; set; } = "";
    }

    [BindProperty] public InputModel Input { get; set; } = new();

    /// <summary>?key= from the invoice's QR code pre-fills the key.</summary>
    [BindProperty(SupportsGet = true, Name = "key")] public string? Key { get; set; }

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (Request.Cookies.ContainsKey(PatientSessions.CookieName)
            && (await HttpContext.AuthenticateAsync(AuthSchemes.Patient)).Succeeded)
            return Redirect("/patient/dashboard");
        if (!string.IsNullOrEmpty(Key))
        {
            var key = CredentialGenerator.NormalizeKey(Key);
            Input.AccessKey = CredentialGenerator.IsWellFormedKey(key) ? CredentialGenerator.FormatKey(key) : "";
        }
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        Response.Headers.CacheControl = "no-cache, no-store"; // as antiforgery wants it (no warning per request)
        if (!ModelState.IsValid) return Page();
        var result = await signIn.SignInAsync(HttpContext, Input.AccessKey, Input.Password, HttpContext.RequestAborted);
        switch (result.Outcome)
        {
            case PatientSignIn.Outcome.Success:
                PatientSessions.WriteCookie(Response, result.SessionToken!);
                return Redirect("/patient/dashboard");
            case PatientSignIn.Outcome.Throttled:
                Response.StatusCode = StatusCodes.Status429TooManyRequests;
                Response.Headers.RetryAfter = result.RetryAfterSeconds.ToString();
                Error = PatientMessages.Throttled(result.RetryAfterSeconds);
                break;
            case PatientSignIn.Outcome.Disabled:
                Error = PatientMessages.AccessDisabled(clinic.Value.Phone);
                break;
            default:
                Error = PatientMessages.InvalidCredentials;
                break;
        }
        Input.Password = "";
        ModelState.Remove("Input.Password");
        return Page();
    }
}
