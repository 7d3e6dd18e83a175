using System.ComponentModel.DataAnnotations;
using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Notifications;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Cimef.Site.Portal;

namespace Cimef.Site.Pages.Account;

/// <summary>
/// Staff sign-in. Whatever the reason for a refusal (unknown e-mail, disabled or locked account, wrong password), the
/// answer is the same message after one PBKDF2 verification, so neither its words nor its timing tell a stranger which
/// addresses have an account or which are locked. Lockout (5 failures → 5 minutes) is per account and per device
/// (<see cref="StaffLockout"/>): a device the owner signed in from before keeps working while strangers' failures lock
/// the account, and the owner is e-mailed (outbox) when failures lock it. Submissions are also capped per address.
/// </summary>
[EnableRateLimiting(RateLimits.StaffSignIn)]
public class SignInModel(SignInManager<StaffUser> signIn, UserManager<StaffUser> users, IPasswordHasher<StaffUser> hasher,
    StaffLockout lockout, DeviceCookies devices, CimefDb db, TimeProvider time) : PageModel
{
    public const string Refused = "Adresse e-mail ou mot de passe incorrect. Après plusieurs échecs, le compte est verrouillé quelques minutes.";

    // Made once per process with the configured hasher, so it carries the same iteration count as real hashes.
    private static string? s_dummyHash;

    public sealed class InputModel
    {
        [Required(ErrorMessage = "L'adresse e-mail est obligatoire.")]
        [EmailAddress(ErrorMessage = "L'adresse e-mail n'est pas valide.")]
        [StringLength(254, ErrorMessage = "254 caractères au plus.")]
        public string Email { get; set; } = "";

        [Required(ErrorMessage = "Le mot de passe est obligatoire.")]
        [StringLength(200, ErrorMessage = "200 caractères au plus.")]
        public string Password { get; set; } = "";
    }

    [BindProperty] public InputModel Input { get; set; } = new();
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid) return Page();
        var user = await users.FindByEmailAsync(Input.Email.Trim());
        var now = time.GetUtcNow().UtcDateTime;
        var device = user is not null && devices.RecognisesStaff(Request, user.Id);
        if (user is null || user.IsDisabled || await lockout.IsLockedOutAsync(user, device) || !await signIn.CanSignInAsync(user))
        {
            VerifyAgainstDummyHash();
            return Refuse();
        }
        if (!await users.CheckPasswordAsync(user, Input.Password))
        {
            if (await lockout.FailedAsync(user, device))
            {
                Audit.Staff(db, user.Id, user.UserName, now, "staff.locked_out", "StaffUser", user.Id, device ? "appareil reconnu" : null);
                if (!string.IsNullOrWhiteSpace(user.Email)) Outbox.QueueStaffLockout(db, user.Email, now);
                await db.SaveChangesAsync();
            }
            return Refuse();
        }
        await lockout.SucceededAsync(user, device);
        await signIn.SignInAsync(user, isPersistent: false);
        devices.IssueStaff(Response, user.Id);
        Audit.Staff(db, user.Id, user.UserName, now, "staff.sign_in", "StaffUser", user.Id);
        await db.SaveChangesAsync();
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
    }

    private PageResult Refuse()
    {
        ModelState.AddModelError("", Refused);
        return Page();
    }

    private void VerifyAgainstDummyHash()
    {
        var dummy = new StaffUser();
        s_dummyHash ??= hasher.HashPassword(dummy, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        hasher.VerifyHashedPassword(dummy, s_dummyHash, Input.Password);
    }
}
