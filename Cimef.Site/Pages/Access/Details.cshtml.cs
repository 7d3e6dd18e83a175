using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Cimef.Site.Portal;

namespace Cimef.Site.Pages.Access;

/// <summary>
/// Access management for one patient: reveal/re-print the credentials (credentials permission only; audited: who,
/// which patient, when — never the password), regenerate them (old ones stop at once, sessions end, new notification
/// queued), unlock the key after too many failures, deactivate with a reason, reactivate (new credentials always
/// for a compromised access, by choice otherwise).
/// </summary>
[Authorize(Policy = Policies.AccessManagement)]
public class DetailsModel(CimefDb db, AccessProvisioning provisioning, CredentialHandover handover, LoginThrottle throttle,
    TimeProvider time, IOptions<PortalOptions> portal) : StaffPage
{
    [FromRoute] public int Id { get; set; }
    public PatientAccess Access { get; private set; } = null!;
    public int Failures { get; private set; }
    public bool Locked => Failures >= portal.Value.MaxLoginAttempts;
    public string PortalUrl => portal.Value.Url;
    /// <summary>Set only in the response to an explicit reveal or regenerate (never stored, never logged).</summary>
    public string? RevealedPassword { get; private set; }
    public int? LatestInvoiceId { get; private set; }
    public bool CanRevealCredentials { get; private set; }
    /// <summary>When the patient last renewed the password from their phone (« Clé ou mot de passe perdu ? »), and how.</summary>
    public AuditEntry? LastRecovery { get; private set; }

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : NotFound();

    public async Task<IActionResult> OnPostRevealAsync()
    {
        if (!await LoadAsync()) return NotFound();
        if (!CanRevealCredentials) return Forbid();
        RevealedPassword = await handover.RevealAsync(User, Access, CredentialHandover.PageChannel);
        await db.SaveChangesAsync();
        Response.Headers.CacheControl = "no-store";
        return Page();
    }

    public async Task<IActionResult> OnPostRegenerateAsync()
    {
        if (!await LoadAsync()) return NotFound();
        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            await provisioning.RegenerateAsync(Access, User);
            RevealedPassword = await handover.RevealAsync(User, Access, CredentialHandover.PageChannel);
            await db.SaveChangesAsync();
            await tx.CommitAsync();
        }
        Response.Headers.CacheControl = "no-store";
        return PageWithStatus("Nouveaux identifiants générés : les anciens ne fonctionnent plus, les sessions ouvertes sont fermées et le patient va être notifié.");
    }

    public async Task<IActionResult> OnPostUnlockAsync()
    {
        if (!await LoadAsync()) return NotFound();
        var removed = await throttle.ClearKeyAsync(Access.AccessKey);
        Audit.Staff(db, User, Now, "access.unlock", "PatientAccess", Access.Id, $"patient {Access.PatientId}, {removed} échec(s) effacé(s)");
        await db.SaveChangesAsync();
        return Done("Clé déverrouillée : le patient peut se reconnecter.", null, new { id = Id });
    }

    public async Task<IActionResult> OnPostDeactivateAsync(string? reason)
    {
        if (!await LoadAsync()) return NotFound();
        reason = string.IsNullOrWhiteSpace(reason) ? DeactivationReasons.Other : reason.Trim();
        if (!DeactivationReasons.All.Contains(reason))
        {
            return Done("Erreur : motif de désactivation inconnu.", null, new { id = Id });
        }
        await provisioning.DeactivateAsync(Access, User, reason);
        await db.SaveChangesAsync();
        return Done($"Accès désactivé ({DeactivationReasons.French(reason)}) : les sessions du patient sont fermées.", null, new { id = Id });
    }

    /// <summary>Reopens the access; a compromised one (or <paramref name="regenerate"/>) gets new credentials, shown here.</summary>
    public async Task<IActionResult> OnPostReactivateAsync(bool regenerate)
    {
        if (!await LoadAsync()) return NotFound();
        if (Access.IsActive)
        {
            return Done("Cet accès est déjà actif.", null, new { id = Id });
        }
        bool regenerated;
        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            regenerated = await provisioning.ActivateAsync(Access, regenerate, User);
            if (regenerated) RevealedPassword = await handover.RevealAsync(User, Access, CredentialHandover.PageChannel);
            await db.SaveChangesAsync();
            await tx.CommitAsync();
        }
        if (!regenerated)
        {
            return Done("Accès réactivé avec les mêmes identifiants.", null, new { id = Id });
        }
        Response.Headers.CacheControl = "no-store";
        return PageWithStatus("Accès réactivé avec de nouveaux identifiants : les anciens ne fonctionnent plus et le patient va être notifié.");
    }

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    private async Task<bool> LoadAsync()
    {
        var access = await db.PatientAccesses.Include(a => a.Patient).SingleOrDefaultAsync(a => a.Id == Id);
        if (access is null) return false;
        Access = access;
        Failures = await AccessList.FailuresAsync(db.Database.GetDbConnection(), access.Id, Now.AddSeconds(-portal.Value.LoginAttemptDelaySeconds));
        LatestInvoiceId = await db.Invoices.Where(i => i.PatientAccessId == access.Id).OrderByDescending(i => i.Id).Select(i => (int?)i.Id).FirstOrDefaultAsync();
        CanRevealCredentials = await handover.AllowedAsync(User);
        var entityId = access.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        LastRecovery = await db.AuditEntries.AsNoTracking()
            .Where(e => e.EntityType == nameof(PatientAccess) && e.EntityId == entityId && e.Action == AccessProvisioning.RecoverAction)
            .OrderByDescending(e => e.At).FirstOrDefaultAsync();
        return true;
    }
}
