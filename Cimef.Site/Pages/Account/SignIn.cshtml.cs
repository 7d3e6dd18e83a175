using System.ComponentModel.DataAnnotations;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Pages.Account;

/// <summary>Staff sign-in with Identity lockout (5 failures → 5 minutes).</summary>
public class SignInModel(SignInManager<StaffUser> signIn, UserManager<StaffUser> users, CimefDb db, TimeProvider time) : PageModel
{
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
            ModelState.AddModelError("", "Adresse e-mail ou mot de passe incorrect.");
            return Page();
        }
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
}
