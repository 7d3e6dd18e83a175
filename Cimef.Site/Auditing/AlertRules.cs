using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Auditing;

/// <summary>
/// One evaluation pass of the security and operations alert rules (run every minute by <see cref="AlertMonitor"/>,
/// callable directly from tests). An alert is raised once per piece of evidence: while it is open the dedup of
/// <see cref="Alerts.RaiseAsync"/> holds it, and after acknowledgement it comes back only if newer evidence appears.
/// </summary>
public sealed class AlertRules(CimefDb db, IOptions<PortalOptions> portal, IOptions<AlertsOptions> alerts, PortalTimings timings)
{
    public const int KeysPerIpThreshold = 20;
    public static readonly TimeSpan KeysPerIpWindow = TimeSpan.FromMinutes(10);
    public const int DownloadBurstThreshold = 50;
    public static readonly TimeSpan DownloadBurstWindow = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan NotificationFailingAfter = TimeSpan.FromHours(24);
    public static readonly TimeSpan SlowWindow = TimeSpan.FromMinutes(15);
    /// <summary>Below this many portal requests in the window a p95 says nothing; no slow alert.</summary>
    public const int SlowMinimumSamples = 10;
    private static readonly TimeSpan Lookback = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan RevealWindow = TimeSpan.FromHours(1);
    public static readonly TimeSpan FhirReadWindow = TimeSpan.FromHours(1);

    private readonly List<Alert> _raised = [];

    /// <summary>Evaluates every rule at <paramref name="now"/>, saves, and returns the alerts newly raised by this pass.</summary>
    public async Task<IReadOnlyList<Alert>> EvaluateAsync(DateTime now, CancellationToken ct = default)
    {
        _raised.Clear();
        var conn = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var tx = await Alerts.BeginAsync(db, ct);
            await KeyFailuresAsync(conn, now, ct);
            await KeysPerIpAsync(conn, now, ct);
            await DownloadBurstsAsync(conn, now, ct);
            await ReportFilesAsync(conn, now, ct);
            await NotificationsAsync(now, ct);
            await SlowResponsesAsync(now, ct);
            await CredentialRevealsAsync(now, ct);
            await FhirBulkReadsAsync(now, ct);
            await RecoveriesAsync(now, ct);
            await db.SaveChangesAsync(ct);
            if (tx is not null) await tx.CommitAsync(ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        return [.. _raised];
    }

    private async Task KeyFailuresAsync(System.Data.Common.DbConnection conn, DateTime now, CancellationToken ct)
    {
        var max = portal.Value.MaxLoginAttempts;
        var window = TimeSpan.FromSeconds(portal.Value.LoginAttemptDelaySeconds);
        var rows = await conn.QueryAsync<(string Key, long N, DateTime Last)>(new CommandDefinition("""
            SELECT "Key", COUNT(*) AS "N", MAX("At") AS "Last" FROM "LoginFailures"
            WHERE "At" >= @since GROUP BY "Key" HAVING COUNT(*) >= @max
            """, new { since = now - window, max }, cancellationToken: ct));
        foreach (var r in rows)
            await RaiseAsync(AlertLevel.Warning, AlertKinds.LoginFailures, $"clé …{Access.CredentialGenerator.Suffix(r.Key)}",
                $"{r.N} échecs de connexion en {Minutes(window)} (seuil {max}) ; la clé est bloquée temporairement.", r.Last, now, ct);
    }

    private async Task KeysPerIpAsync(System.Data.Common.DbConnection conn, DateTime now, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<(string Ip, long Keys, DateTime Last)>(new CommandDefinition("""
            SELECT "ClientIp" AS "Ip", COUNT(DISTINCT "Key") AS "Keys", MAX("At") AS "Last" FROM "LoginFailures"
            WHERE "At" >= @since GROUP BY "ClientIp" HAVING COUNT(DISTINCT "Key") >= @threshold
            """, new { since = now - KeysPerIpWindow, threshold = KeysPerIpThreshold }, cancellationToken: ct));
        foreach (var r in rows)
            await RaiseAsync(AlertLevel.Critical, AlertKinds.IpManyKeys, $"IP {r.Ip}",
                $"{r.Keys} clés d'accès différentes essayées en {Minutes(KeysPerIpWindow)} depuis cette adresse.", r.Last, now, ct);
    }

    private async Task DownloadBurstsAsync(System.Data.Common.DbConnection conn, DateTime now, CancellationToken ct)
    {
        var since = now - Lookback;
        var candidates = await conn.QueryAsync<int>(new CommandDefinition("""
            SELECT "PatientAccessId" FROM "AccessEvents"
            WHERE "Kind" IN (@download, @part) AND "At" >= @since AND "PatientAccessId" IS NOT NULL
            GROUP BY "PatientAccessId" HAVING COUNT(*) >= @threshold
            """, new { download = AccessEventKinds.Download, part = AccessEventKinds.DownloadPart, since, threshold = DownloadBurstThreshold },
            cancellationToken: ct));
        foreach (var accessId in candidates)
        {
            var times = (await db.AccessEvents
                // Range continuations count too: a scraper asking only for byte ranges is still a burst.
                .Where(e => (e.Kind == AccessEventKinds.Download || e.Kind == AccessEventKinds.DownloadPart)
                            && e.PatientAccessId == accessId && e.At >= since)
                .Select(e => e.At).ToListAsync(ct)).Order().ToList();
            int best = 0, first = 0;
            DateTime? burstAt = null;
            for (var i = 0; i < times.Count; i++)
            {
                while (times[i] - times[first] >= DownloadBurstWindow) first++;
                var n = i - first + 1;
                if (n >= DownloadBurstThreshold) burstAt = times[i];
                best = Math.Max(best, n);
            }
            if (burstAt is null) continue;
            await RaiseAsync(AlertLevel.Warning, AlertKinds.DownloadBurst, $"accès {accessId}",
                $"{best} téléchargements en moins d'une minute par le même accès patient (seuil {DownloadBurstThreshold}).", burstAt.Value, now, ct);
        }
    }

    private async Task ReportFilesAsync(System.Data.Common.DbConnection conn, DateTime now, CancellationToken ct)
    {
        var flagged = await db.PatientReports
            .Where(r => r.IsActive && (r.Integrity == FileIntegrity.Missing || r.Integrity == FileIntegrity.Altered))
            .Select(r => new { r.Id, r.Title, r.Integrity, r.IntegrityCheckedAt })
            .ToListAsync(ct);
        foreach (var r in flagged)
        {
            var what = r.Integrity == FileIntegrity.Missing ? "Fichier manquant" : "Fichier modifié (SHA-256 différent)";
            await RaiseAsync(AlertLevel.Critical, AlertKinds.ReportFile, $"rapport {r.Id}", $"{what} : {r.Title}", r.IntegrityCheckedAt ?? DateTime.MinValue, now, ct);
        }

        var missingOnDownload = await conn.QueryAsync<(long ReportId, long N, DateTime Last)>(new CommandDefinition("""
            SELECT "ReportId", COUNT(*) AS "N", MAX("At") AS "Last" FROM "AccessEvents"
            WHERE "Kind" = @kind AND "At" >= @since AND "ReportId" IS NOT NULL GROUP BY "ReportId"
            """, new { kind = AccessEventKinds.FileMissing, since = now - Lookback }, cancellationToken: ct));
        foreach (var r in missingOnDownload)
            await RaiseAsync(AlertLevel.Critical, AlertKinds.ReportFile, $"rapport {r.ReportId}",
                $"Fichier introuvable lors d'un téléchargement ({r.N} fois).", r.Last, now, ct);
    }

    private async Task NotificationsAsync(DateTime now, CancellationToken ct)
    {
        var olderThan = now - NotificationFailingAfter;
        var failing = await db.OutboxMessages
            .Where(m => m.Status == OutboxStatus.Failed
                        || (m.Status == OutboxStatus.Pending && m.Attempts > 0 && m.CreatedAt < olderThan))
            .Select(m => new { m.Status, m.CreatedAt, m.Channel })
            .ToListAsync(ct);
        if (failing.Count == 0) return;
        var evidence = failing.Max(m => m.Status == OutboxStatus.Failed ? m.CreatedAt : m.CreatedAt + NotificationFailingAfter);
        var email = failing.Count(m => m.Channel == OutboxChannel.Email);
        await RaiseAsync(AlertLevel.Warning, AlertKinds.Notifications, "notifications patients",
            $"{failing.Count} notification(s) en échec depuis plus de 24 h ({email} e-mail, {failing.Count - email} SMS).", evidence, now, ct);
    }

    private async Task SlowResponsesAsync(DateTime now, CancellationToken ct)
    {
        var slowMs = alerts.Value.SlowMilliseconds;
        // This node's latest requests first, then every node's rows (one alert for the whole cluster).
        await timings.FlushAsync(db, ct);
        var (count, p95, lastSlow) = await PortalTimings.SinceAsync(db, now - SlowWindow, slowMs, ct);
        if (count < SlowMinimumSamples || p95 <= slowMs || lastSlow is null) return;
        await RaiseAsync(AlertLevel.Warning, AlertKinds.SlowResponses, "portail patient",
            $"p95 des requêtes du portail sur {Minutes(SlowWindow)} : {p95:0} ms ({count} requêtes), seuil {slowMs} ms.", lastSlow.Value, now, ct);
    }

    /// <summary>
    /// One staff account handing over more than Alerts:RevealsPerHour passwords within the last hour (Access page,
    /// invoice PDFs, API): a loop over invoices or accesses, or a stolen account or token, not a cash desk's day.
    /// </summary>
    private async Task CredentialRevealsAsync(DateTime now, CancellationToken ct)
    {
        var threshold = alerts.Value.RevealsPerHour;
        var since = now - RevealWindow;
        var accounts = await db.AuditEntries
            .Where(a => a.Action == Access.CredentialHandover.RevealAction && a.At > since && a.At <= now)
            .GroupBy(a => new { a.UserId, a.UserName })
            .Select(g => new { g.Key.UserId, g.Key.UserName, N = g.Count(), Last = g.Max(a => a.At) })
            .Where(g => g.N > threshold)
            .ToListAsync(ct);
        foreach (var a in accounts)
            await RaiseAsync(AlertLevel.Critical, AlertKinds.CredentialReveals, $"compte {a.UserName}",
                $"{a.N} identifiants patients remis en moins d'une heure par ce compte (seuil {threshold}).", a.Last, now, ct);
    }

    /// <summary>
    /// One account given more than Alerts:FhirRecordsPerHour FHIR records within the last hour (resources read, found
    /// by its searches, report files fetched): a RIS polls for the day's few reports; a loop over every patient or a
    /// stolen token does not look like that.
    /// </summary>
    private async Task FhirBulkReadsAsync(DateTime now, CancellationToken ct)
    {
        var threshold = alerts.Value.FhirRecordsPerHour;
        var since = now - FhirReadWindow;
        var entries = await db.AuditEntries
            .Where(a => (a.Action == Fhir.FhirAudit.ReadAction || a.Action == Fhir.FhirAudit.SearchAction || a.Action == Reports.ReportDelivery.DownloadAction)
                        && a.At > since && a.At <= now)
            .Select(a => new { a.UserId, a.UserName, a.Action, a.Detail, a.At })
            .ToListAsync(ct);
        foreach (var account in entries.GroupBy(a => (a.UserId, a.UserName)))
        {
            var records = account.Sum(a => a.Action == Reports.ReportDelivery.DownloadAction ? 1 : Fhir.FhirAudit.ResultsOf(a.Detail));
            if (records <= threshold) continue;
            await RaiseAsync(AlertLevel.Critical, AlertKinds.FhirBulkRead, $"compte {account.Key.UserName}",
                $"{records} enregistrements lus par l'API FHIR en moins d'une heure par ce compte (seuil {threshold}).", account.Max(a => a.At), now, ct);
        }
    }

    /// <summary>
    /// More than Alerts:RecoveriesPerHour passwords renewed by patients from their phones within the last hour, clinic-wide:
    /// a clinic's day sees a few; a burst means someone holds many patients' phone numbers or mailboxes.
    /// </summary>
    private async Task RecoveriesAsync(DateTime now, CancellationToken ct)
    {
        var threshold = alerts.Value.RecoveriesPerHour;
        var since = now - RevealWindow;
        var recent = await db.AuditEntries.Where(a => a.Action == Access.AccessProvisioning.RecoverAction && a.At > since && a.At <= now)
            .GroupBy(a => 1).Select(g => new { N = g.Count(), Last = g.Max(a => a.At) }).SingleOrDefaultAsync(ct);
        if (recent is null || recent.N <= threshold) return;
        await RaiseAsync(AlertLevel.Warning, AlertKinds.RecoveryBurst, "portail patient",
            $"{recent.N} mots de passe renouvelés par des patients depuis un téléphone en moins d'une heure (seuil {threshold}).", recent.Last, now, ct);
    }

    private async Task RaiseAsync(AlertLevel level, string kind, string subject, string detail, DateTime evidenceAt, DateTime now, CancellationToken ct)
    {
        await Alerts.LockKindAsync(db, kind, ct);
        var dedup = $"{kind}:{subject}";
        var lastRaised = await db.Alerts.Where(a => a.DedupKey == dedup).MaxAsync(a => (DateTime?)a.At, ct);
        if (lastRaised is not null && lastRaised >= evidenceAt) return;
        var alert = await Alerts.RaiseAsync(db, level, kind, subject, detail, now, ct, alerts.Value.MaxPerRulePerHour);
        if (alert is not null) _raised.Add(alert);
    }

    private static string Minutes(TimeSpan t) => t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0} min" : $"{t.TotalSeconds:0} s";
}
