using Cimef.Site.Access;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Pages.Access;

/// <summary>Access management: every patient access with status (active, inactive, locked now), use and failures; bulk activate/deactivate.</summary>
[Authorize(Policy = Policies.AccessManagement)]
public class IndexModel(CimefDb db, AccessProvisioning provisioning, TimeProvider time, IOptions<PortalOptions> portal) : StaffPage
{
    [BindProperty(SupportsGet = true, Name = "q")] public string? Q { get; set; }
    [BindProperty(SupportsGet = true, Name = "status")] public string? Status { get; set; }
    [BindProperty(SupportsGet = true, Name = "p")] public int PageNumber { get; set; } = 1;
    public IReadOnlyList<AccessList.Row> Rows { get; private set; } = [];
    public bool HasNext { get; private set; }
    public int MaxAttempts => portal.Value.MaxLoginAttempts;

    public async Task<IActionResult> OnGetAsync()
    {
        await LoadAsync();
        return this.PageOrPartial("_AccessRows");
    }

    public async Task<IActionResult> OnPostBulkAsync(string? operation, int[] ids)
    {
        var activate = operation == "activate";
        string message;
        if (operation is not ("activate" or "deactivate")) message = "Erreur : opération inconnue.";
        else if (ids.Length == 0) message = "Erreur : cochez au moins un accès.";
        else if (ids.Length > 500) message = "Erreur : 500 accès au plus à la fois.";
        else
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            var accesses = await db.PatientAccesses.Where(a => ids.Contains(a.Id) && a.IsActive != activate).ToListAsync();
            // Compromised credentials are reopened one by one, with new credentials, from the access page.
            var compromised = activate ? accesses.Count(AccessProvisioning.IsCompromised) : 0;
            if (activate) accesses = accesses.Where(a => !AccessProvisioning.IsCompromised(a)).ToList();
            foreach (var a in accesses)
            {
                if (activate) await provisioning.ActivateAsync(a, regenerate: false, User);
                else await provisioning.DeactivateAsync(a, User, DeactivationReasons.Other);
            }
            await db.SaveChangesAsync();
            await tx.CommitAsync();
            message = activate
                ? $"{accesses.Count} accès activé(s)." + (compromised > 0 ? $" {compromised} accès aux identifiants compromis non réactivé(s) : ouvrez-les un par un pour générer de nouveaux identifiants." : "")
                : $"{accesses.Count} accès désactivé(s) ; leurs sessions sont fermées.";
        }
        return await DoneAsync(message, async () =>
        {
            await LoadAsync();
            return Partial("_AccessRows", this);
        }, new { q = Q, status = Status, p = PageNumber });
    }

    public string ListUrl(int page) => $"/Access?q={Uri.EscapeDataString(Q ?? "")}&status={Uri.EscapeDataString(Status ?? "")}&p={page}";

    private async Task LoadAsync()
    {
        var status = Status is "active" or "inactive" or "locked" ? Status : null;
        var since = time.GetUtcNow().UtcDateTime.AddSeconds(-portal.Value.LoginAttemptDelaySeconds);
        (Rows, HasNext) = await AccessList.RunAsync(db.Database.GetDbConnection(), Q, status, PageNumber, since, MaxAttempts, HttpContext.RequestAborted);
    }
}
