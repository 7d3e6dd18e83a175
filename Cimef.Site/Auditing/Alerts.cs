using System.Globalization;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Cimef.Site.Auditing;

/// <summary>
/// Raises an alert unless the same one (kind + subject) is still open. Added to the caller's unit of work.
/// At most <c>Alerts:MaxPerRulePerHour</c> alerts of one kind per hour: past the cap an alert is still recorded
/// (so the rule does not raise it again for the same evidence) but folded into one digest alert of the kind for
/// that hour (« et 37 autres »), already marked handled so it is neither e-mailed nor listed as open: a thousand
/// random keys under attack make one e-mail, not a thousand.
/// The de-duplication and the cap are check-then-insert, so a caller raises alerts inside a transaction
/// (<see cref="BeginAsync"/>) that ends after its save: on SQLite it is a write transaction from the start (BEGIN
/// IMMEDIATE, one writer at a time); on PostgreSQL <see cref="LockKindAsync"/> adds an advisory lock on the alert's
/// kind held until commit. Either way two requests or nodes never raise the same alert twice.
/// </summary>
public static class Alerts
{
    public const string DigestSubject = "résumé";
    private const string FoldedBy = "regroupée (plafond horaire)";

    public static async Task<Alert?> RaiseAsync(CimefDb db, AlertLevel level, string kind, string subject, string detail, DateTime now,
        CancellationToken ct = default, int maxPerRulePerHour = 10)
    {
        await LockKindAsync(db, kind, ct);
        var dedup = $"{kind}:{subject}";
        if (db.Alerts.Local.Any(a => a.DedupKey == dedup && a.AcknowledgedAt == null)
            || await db.Alerts.AnyAsync(a => a.DedupKey == dedup && a.AcknowledgedAt == null, ct))
            return null;
        var alert = new Alert { At = now, Level = level, Kind = kind, Subject = subject, Detail = detail, DedupKey = dedup };
        db.Alerts.Add(alert);

        var hourAgo = now.AddHours(-1);
        var saved = await db.Alerts.Where(a => a.Kind == kind && a.At > hourAgo && a.Subject != DigestSubject && a.AcknowledgedBy != FoldedBy)
            .Select(a => a.Id).ToListAsync(ct);
        var pending = db.Alerts.Local.Count(a => a.Id <= 0 && a.Kind == kind && a.At > hourAgo && a.Subject != DigestSubject && a.AcknowledgedBy != FoldedBy);
        if (saved.Count + pending <= maxPerRulePerHour) return alert;

        alert.AcknowledgedAt = now;
        alert.AcknowledgedBy = FoldedBy;
        var digest = db.Alerts.Local.FirstOrDefault(a => a.Kind == kind && a.Subject == DigestSubject && a.At > hourAgo)
                     ?? await db.Alerts.Where(a => a.Kind == kind && a.Subject == DigestSubject && a.At > hourAgo).OrderByDescending(a => a.At).FirstOrDefaultAsync(ct);
        if (digest is not null)
        {
            digest.Detail = DigestDetail(FoldedCount(digest.Detail) + 1, maxPerRulePerHour, subject);
            return null;
        }
        digest = new Alert
        {
            At = now, Level = level, Kind = kind, Subject = DigestSubject,
            Detail = DigestDetail(1, maxPerRulePerHour, subject), DedupKey = $"{kind}:{DigestSubject}:{now:yyyyMMddHHmm}",
        };
        db.Alerts.Add(digest);
        return digest;
    }

    /// <summary>
    /// The transaction a unit of work that raises alerts runs in (commit it after SaveChanges), or null when the
    /// context is in one already. Microsoft.Data.Sqlite begins it IMMEDIATE: the check and the insert hold the writer.
    /// </summary>
    public static async Task<IDbContextTransaction?> BeginAsync(CimefDb db, CancellationToken ct = default) =>
        db.Database.CurrentTransaction is not null ? null : await db.Database.BeginTransactionAsync(ct);

    /// <summary>
    /// Serialises, until the current transaction ends, every unit of work that checks then raises alerts of
    /// <paramref name="kind"/>: PostgreSQL's advisory lock (taking it again in the same transaction is free); on
    /// SQLite the write transaction itself does.
    /// </summary>
    public static async Task LockKindAsync(CimefDb db, string kind, CancellationToken ct = default)
    {
        if (db.Database.CurrentTransaction is null)
            throw new InvalidOperationException("Alerts are raised inside a transaction (Alerts.BeginAsync).");
        var sql = SqlDialect.Of(db).TransactionLock(LockSpace.AlertKind, "{0}");
        if (sql is not null) await db.Database.ExecuteSqlRawAsync(sql, [kind], ct);
    }

    private static string DigestDetail(int folded, int cap, string lastSubject) =>
        $"et {folded} {(folded == 1 ? "autre" : "autres")} ({cap} alertes de ce type par heure au plus ; dernière : {lastSubject})";

    private static int FoldedCount(string detail)
    {
        var parts = detail.Split(' ', 3);
        return parts.Length >= 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
    }
}
