using System.ComponentModel.DataAnnotations;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;

namespace Cimef.Site.Pages.Account;

/// <summary>
/// Staff sign-in with Identity lockout (5 failures → 5 minutes) and a per-address cap on submissions.
/// Unknown, disabled and locked-out accounts cost one PBKDF2 verification like a real attempt, so the answer's
/// timing does not tell which e-mail addresses have an account.
/// </summary>
[EnableRateLimiting(RateLimits.StaffSignIn)]
public class SignInModel(SignInManager<StaffUser> signIn, UserManager<StaffUser> users, IPasswordHasher<StaffUser> hasher,
    CimefDb db, TimeProvider time) : PageModel
{
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
        if (user is null || user.IsDisabled)
        {
            VerifyAgainstDummyHash();
            ModelState.AddModelError("", "Adresse e-mail ou mot de passe incorrect.");
            return Page();
        }
        // Identity answers a locked-out account before hashing anything: spend the same time here.
        if (await users.IsLockedOutAsync(user)) VerifyAgainstDummyHash();
        var result = await signIn.PasswordSignInAsync(user, Input.Password, isPersistent: false, lockoutOnFailure: true);
        if (result.Succeeded)
        {
            Audit.Staff(db, user.Id, user.UserName, now, "staff.sign_in", "StaffUser", user.Id);
            await db.SaveChangesAsync();
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
        }
        if (result.IsLockedOut)
        {
            Audit.Staff(db, user.Id, user.UserName, now, "staff.locked_out", "StaffUser", user.Id);
            await db.SaveChangesAsync();
            ModelState.AddModelError("", "Compte verrouillé après trop d'échecs. Réessayez dans 5 minutes.");
            return Page();
        }
        ModelState.AddModelError("", "Adresse e-mail ou mot de passe incorrect.");
        return Page();
    }

    private void VerifyAgainstDummyHash()
    {
        var dummy = new StaffUser();
        s_dummyHash ??= hasher.HashPassword(dummy, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        hasher.VerifyHashedPassword(dummy, s_dummyHash, Input.Password);
    }
}
