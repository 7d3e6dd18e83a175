using System.ComponentModel.DataAnnotations;
using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.Staff;

/// <summary>Admin: create staff accounts, set roles, disable/reactivate an account, lift a sign-in lockout (audited).</summary>
public class IndexModel(CimefDb db, UserManager<StaffUser> users, StaffLockout lockout, TimeProvider time) : StaffPage
{
    public sealed class InputModel
    {
        [Required(ErrorMessage = "Le nom est obligatoire.")]
        [StringLength(100, ErrorMessage = "100 caractères au plus.")]
        public string FullName { get; set; } = "";

        [Required(ErrorMessage = "L'adresse e-mail est obligatoire.")]
        [EmailAddress(ErrorMessage = "L'adresse e-mail n'est pas valide.")]
        [StringLength(254, ErrorMessage = "254 caractères au plus.")]
        public string Email { get; set; } = "";

        [Required(ErrorMessage = "Choisissez un rôle.")]
        public string Role { get; set; } = Roles.Secretary;

        [Required(ErrorMessage = "Le mot de passe est obligatoire.")]
        [StringLength(200, ErrorMessage = "200 caractères au plus.")]
        public string Password { get; set; } = "";
    }

    public sealed record Row(string Id, string FullName, string Email, bool IsDisabled, IReadOnlyList<string> Roles, DateTimeOffset? LockedUntil);

    [BindProperty] public InputModel Input { get; set; } = new();
    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public Task OnGetAsync() => LoadAsync();

    public async Task<IActionResult> OnPostCreateAsync()
    {
        if (!Roles.All.Contains(Input.Role)) ModelState.AddModelError("Input.Role", "Rôle inconnu.");
        if (!ModelState.IsValid)
        {
            await LoadAsync();
            return Page();
        }
        var result = await StaffAccounts.CreateAsync(HttpContext.RequestServices, Input.Email, Input.FullName, Input.Role, Input.Password);
        if (!result.Succeeded)
        {
            foreach (var e in result.Errors) ModelState.AddModelError("", e.Description);
            await LoadAsync();
            return Page();
        }
        Audit.Staff(db, User, time.GetUtcNow().UtcDateTime, "staff.create", "StaffUser", Input.Email.Trim(), Input.Role);
        await db.SaveChangesAsync();
        return Done($"Compte créé pour {Input.FullName}.");
    }

    public async Task<IActionResult> OnPostRolesAsync(string id, string[] roles)
    {
        var user = await users.FindByIdAsync(id);
        if (user is null) return NotFound();
        var wanted = roles.Where(Roles.All.Contains).Distinct().ToList();
        var current = await users.GetRolesAsync(user);
        if (user.Id == users.GetUserId(User) && current.Contains(Roles.Admin) && !wanted.Contains(Roles.Admin))
        {
            return Done("Erreur : vous ne pouvez pas retirer votre propre rôle d'administrateur.");
        }
        await users.RemoveFromRolesAsync(user, current.Except(wanted));
        await users.AddToRolesAsync(user, wanted.Except(current));
        await users.UpdateSecurityStampAsync(user);
        Audit.Staff(db, User, time.GetUtcNow().UtcDateTime, "staff.roles", "StaffUser", user.Id, string.Join(",", wanted));
        await db.SaveChangesAsync();
        return Done($"Rôles mis à jour pour {user.FullName}.");
    }

    public async Task<IActionResult> OnPostToggleAsync(string id)
    {
        var user = await users.FindByIdAsync(id);
        if (user is null) return NotFound();
        if (user.Id == users.GetUserId(User))
        {
            return Done("Erreur : vous ne pouvez pas désactiver votre propre compte.");
        }
        user.IsDisabled = !user.IsDisabled;
        await users.UpdateAsync(user);
        await users.SetLockoutEndDateAsync(user, user.IsDisabled ? DateTimeOffset.MaxValue : null);
        await users.UpdateSecurityStampAsync(user); // ends the account's open sessions within a minute
        Audit.Staff(db, User, time.GetUtcNow().UtcDateTime, user.IsDisabled ? "staff.disable" : "staff.enable", "StaffUser", user.Id);
        await db.SaveChangesAsync();
        return Done(user.IsDisabled ? $"Compte de {user.FullName} désactivé." : $"Compte de {user.FullName} réactivé.");
    }

    public async Task<IActionResult> OnPostUnlockAsync(string id)
    {
        var user = await users.FindByIdAsync(id);
        if (user is null) return NotFound();
        // A disabled account is "locked" forever on purpose; only Réactiver lifts that.
        if (user.IsDisabled)
        {
            TempData["StatusMessage"] = "Erreur : ce compte est désactivé ; réactivez-le plutôt.";
            return RedirectToPage();
        }
        await lockout.UnlockAsync(user);
        Audit.Staff(db, User, time.GetUtcNow().UtcDateTime, "staff.unlock", "StaffUser", user.Id);
        await db.SaveChangesAsync();
        return Done($"Compte de {user.FullName} déverrouillé.");
    }

    private async Task LoadAsync()
    {
        var list = await db.Users.OrderBy(u => u.FullName).ToListAsync();
        var roleMap = await (from ur in db.UserRoles join r in db.Roles on ur.RoleId equals r.Id select new { ur.UserId, r.Name }).ToListAsync();
        var now = time.GetUtcNow();
        Rows = list.Select(u => new Row(u.Id, u.FullName, u.Email ?? "", u.IsDisabled,
            roleMap.Where(x => x.UserId == u.Id).Select(x => x.Name!).ToList(),
            !u.IsDisabled && u.LockoutEnd > now ? u.LockoutEnd : null)).ToList();
    }
}
