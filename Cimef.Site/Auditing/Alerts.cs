using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Auditing;

/// <summary>Raises an alert unless the same one (kind + subject) is still open. Added to the caller's unit of work.</summary>
public static class Alerts
{
    public static async Task<Alert?> RaiseAsync(CimefDb db, AlertLevel level, string kind, string subject, string detail, DateTime now, CancellationToken ct = default)
    {
        var dedup = $"{kind}:{subject}";
        if (db.Alerts.Local.Any(a => a.DedupKey == dedup && a.AcknowledgedAt == null)
            || await db.Alerts.AnyAsync(a => a.DedupKey == dedup && a.AcknowledgedAt == null, ct))
            return null;
        var alert = new Alert { At = now, Level = level, Kind = kind, Subject = subject, Detail = detail, DedupKey = dedup };
        db.Alerts.Add(alert);
        return alert;
    }
}
