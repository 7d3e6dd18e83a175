using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using AuditLog = Cimef.Site.Auditing.Audit;

namespace Cimef.Site.Pages.AuditPages;

/// <summary>Admin: security and operations alerts, newest first; acknowledging one is audited.</summary>
[Authorize(Policy = Policies.Admin)]
public class AlertsModel(CimefDb db, TimeProvider time) : StaffPage
{
    public const int PageSize = 50;

    /// <summary>Show acknowledged alerts too.</summary>
    [BindProperty(SupportsGet = true)] public bool All { get; set; }
    [BindProperty(SupportsGet = true, Name = "p")] public int PageNumber { get; set; } = 1;

    public IReadOnlyList<Alert> Rows { get; private set; } = [];
    public int OpenCount { get; private set; }
    public bool HasNext { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        await LoadAsync();
        return this.PageOrPartial("_AlertList");
    }

    public async Task<IActionResult> OnPostAcknowledgeAsync(int id)
    {
        var alert = await db.Alerts.SingleOrDefaultAsync(a => a.Id == id);
        if (alert is null) return NotFound();
        string message;
        if (alert.AcknowledgedAt is null)
        {
            var now = time.GetUtcNow().UtcDateTime;
            alert.AcknowledgedAt = now;
            alert.AcknowledgedBy = User.Identity?.Name;
            AuditLog.Staff(db, User, now, "alert.acknowledge", "Alert", alert.Id, $"{alert.Kind} — {alert.Subject}");
            await db.SaveChangesAsync();
            message = "Alerte acquittée.";
        }
        else
        {
            message = $"Alerte déjà acquittée par {alert.AcknowledgedBy}.";
        }
        return await DoneAsync(message, () => Task.FromResult<IActionResult>(Partial("_AlertRow", alert)), new { all = All ? "true" : null });
    }

    public string PageUrl(int page) => $"/Audit/Alerts?p={page}{(All ? "&all=true" : "")}";

    private async Task LoadAsync()
    {
        if (PageNumber < 1) PageNumber = 1;
        OpenCount = await db.Alerts.CountAsync(a => a.AcknowledgedAt == null);
        var query = All ? db.Alerts : db.Alerts.Where(a => a.AcknowledgedAt == null);
        var rows = await query.AsNoTracking().OrderByDescending(a => a.At).ThenByDescending(a => a.Id)
            .Skip((PageNumber - 1) * PageSize).Take(PageSize + 1).ToListAsync();
        HasNext = rows.Count > PageSize;
        Rows = rows.Take(PageSize).ToList();
    }
}
