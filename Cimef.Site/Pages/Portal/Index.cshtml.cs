using System.ComponentModel.DataAnnotations;
using Cimef.Site.Access;
using Cimef.Site.Data;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Cimef.Site.Portal;

namespace Cimef.Site.Pages.Portal;

/// <summary>
/// Patient login with the access key and password printed on the invoice (no JavaScript needed). Keys remembered on
/// this phone (<see cref="PhoneCookies"/>) are offered as links (<c>?remembered=N</c>): the chosen one needs only the
/// password, and the server takes its key from the cookie and the database, never from the request.
/// </summary>
[EnableRateLimiting(RateLimits.PatientLogin)]
public class IndexModel(PatientSignIn signIn, PhoneCookies phones, CimefDb db, IOptions<ClinicOptions> clinic) : PageModel
{
    public sealed class InputModel
    {
        [Required(ErrorMessageResourceType = typeof(PatientMessages), ErrorMessageResourceName = nameof(PatientMessages.KeyRequired))]
        [StringLength(40, ErrorMessageResourceType = typeof(PatientMessages), ErrorMessageResourceName = nameof(PatientMessages.FieldTooLong))]
        public string AccessKey { get; set; } = "";

        [Required(ErrorMessageResourceType = typeof(PatientMessages), ErrorMessageResourceName = nameof(PatientMessages.PasswordRequired))]
        [StringLength(64, ErrorMessageResourceType = typeof(PatientMessages), ErrorMessageResourceName = nameof(PatientMessages.FieldTooLong))]
        public string Password { get; set; } = "";

        /// <summary>« Se souvenir de cette clé sur ce téléphone » (off by default).</summary>
        public bool Remember { get; set; }
    }

    [BindProperty] public InputModel Input { get; set; } = new();

    /// <summary>?key= from the invoice's QR code pre-fills the key.</summary>
    [BindProperty(SupportsGet = true, Name = "key")] public string? Key { get; set; }

    /// <summary>1-based position of a remembered key in the phone cookie (the link's query, then the form's field).</summary>
    [BindProperty(SupportsGet = true, Name = "remembered")] public int? Remembered { get; set; }

    public string? Error { get; private set; }

    /// <summary>The phone's remembered keys that still name their access's current key (others are dropped).</summary>
    public IReadOnlyList<PhoneCookies.Entry> RememberedKeys { get; private set; } = [];

    /// <summary>The remembered key chosen by <see cref="Remembered"/>, if it is still valid.</summary>
    public PhoneCookies.Entry? Chosen => Remembered is { } n && n >= 1 && n <= RememberedKeys.Count ? RememberedKeys[n - 1] : null;

    private Dictionary<int, string> _currentKeys = [];

    public async Task<IActionResult> OnGetAsync()
    {
        if (Request.Cookies.ContainsKey(PatientSessions.CookieName)
            && (await HttpContext.AuthenticateAsync(AuthSchemes.Patient)).Succeeded)
            return Redirect(PatientRoutes.Dashboard);
        if (!string.IsNullOrEmpty(Key))
        {
            var key = CredentialGenerator.NormalizeKey(Key);
            Input.AccessKey = CredentialGenerator.IsWellFormedKey(key) ? CredentialGenerator.FormatKey(key) : "";
        }
        await LoadRememberedAsync();
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        Response.Headers.CacheControl = "no-cache, no-store"; // as antiforgery wants it (no warning per request)
        await LoadRememberedAsync();
        var key = Input.AccessKey;
        if (Remembered is not null)
        {
            ModelState.Remove("Input.AccessKey");
            if (Chosen is null)
            {
                Remembered = null;
                Error = PatientMessages.InvalidCredentials;
                return Page();
            }
            key = _currentKeys[Chosen.AccessId];
        }
        if (!ModelState.IsValid) return Page();
        var remember = Input.Remember || Remembered is not null;
        var result = await signIn.SignInAsync(HttpContext, key, Input.Password, remember, HttpContext.RequestAborted);
        switch (result.Outcome)
        {
            case PatientSignIn.Outcome.Success:
                PatientSessions.WriteCookie(Response, result.SessionToken!);
                return Redirect(PatientRoutes.Dashboard);
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

    /// <summary>
    /// Reads the phone cookie and keeps the entries whose access still has the key they were remembered with (one
    /// query); when some were dropped (key regenerated, access deleted), the cookie is written back without them.
    /// </summary>
    private async Task LoadRememberedAsync()
    {
        var phone = phones.Read(Request);
        if (phone is null || phone.Keys.Count == 0) return;
        var ids = phone.Keys.Select(e => e.AccessId).ToList();
        _currentKeys = await db.PatientAccesses.Where(a => ids.Contains(a.Id)).Select(a => new { a.Id, a.AccessKey })
            .ToDictionaryAsync(a => a.Id, a => a.AccessKey, HttpContext.RequestAborted);
        RememberedKeys = phone.Keys.Where(e => _currentKeys.TryGetValue(e.AccessId, out var k) && phones.Matches(e, k)).ToList();
        if (RememberedKeys.Count != phone.Keys.Count) phones.Rewrite(Response, phone with { Keys = RememberedKeys });
    }
}
