using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Dapper;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages;

/// <summary>Staff home: today's figures at a glance; open alerts for admins.</summary>
public class IndexModel(CimefDb db, TimeProvider time) : PageModel
{
    public string DisplayName { get; private set; } = "";
    public IReadOnlyList<string> RoleNames { get; private set; } = [];
    public long PatientCount { get; private set; }
    public long InvoicesToday { get; private set; }
    public long PaidToday { get; private set; }
    public long ActiveAccesses { get; private set; }
    public int? OpenAlerts { get; private set; }
    public IReadOnlyList<Alert> LatestAlerts { get; private set; } = [];

    public async Task OnGetAsync()
    {
        DisplayName = User.Identity?.Name ?? "";
        RoleNames = Roles.All.Where(User.IsInRole).Select(Roles.French).ToList();
        var today = time.GetUtcNow().UtcDateTime.Date;
        var conn = db.Database.GetDbConnection();
        var row = await conn.QuerySingleAsync<(long Patients, long Invoices, long Paid, long Accesses)>("""
            SELECT (SELECT COUNT(*) FROM "Patients"),
                   (SELECT COUNT(*) FROM "Invoices" WHERE "CreatedAt" >= @today),
                   (SELECT CAST(COALESCE(SUM("Amount"), 0) AS BIGINT) FROM "Payments" WHERE "At" >= @today AND "ReversedAt" IS NULL),
                   (SELECT COUNT(*) FROM "PatientAccesses" WHERE "IsActive" = @active)
            """, new { today, active = true });
        (PatientCount, InvoicesToday, PaidToday, ActiveAccesses) = row;
        if (User.IsInRole(Roles.Admin))
        {
            OpenAlerts = await db.Alerts.CountAsync(a => a.AcknowledgedAt == null);
            LatestAlerts = await db.Alerts.AsNoTracking().Where(a => a.AcknowledgedAt == null)
                .OrderByDescending(a => a.At).ThenByDescending(a => a.Id).Take(5).ToListAsync();
        }
    }
}
