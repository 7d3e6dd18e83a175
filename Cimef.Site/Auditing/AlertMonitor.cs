using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Auditing;

/// <summary>
/// Once per cluster, every <c>Cluster:JobCheckSeconds</c> (a minute by default, on the injected <see cref="TimeProvider"/>),
/// on the leader node: evaluates <see cref="AlertRules"/>, then announces each alert that appeared since the last pass
/// — whoever raised it (rules, integrity check, …) — exactly once through <see cref="AnnounceAsync"/>. The last
/// announced alert is the <see cref="JobState"/> cursor of <see cref="JobName"/>, moved (compare-and-set) before each
/// announcement: a node that takes over continues there, and two nodes never announce the same alert.
/// </summary>
public sealed class AlertMonitor(
    IServiceScopeFactory scopes, TimeProvider time, Web.ClinicClock clock, ILogger<AlertMonitor> log,
    Notifications.EmailSender email, Microsoft.Extensions.Options.IOptions<AlertsOptions> options,
    ClusterLeader leader, Microsoft.Extensions.Options.IOptions<ClusterOptions> cluster) : BackgroundService
{
    public const string JobName = "alert-monitor";
    private readonly SemaphoreSlim _pass = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(cluster.Value.JobCheckSeconds), time);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await StartCursorAsync(scope.ServiceProvider.GetRequiredService<CimefDb>(), stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "Could not read the latest alert; the first pass will.");
        }
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (await leader.IsLeaderAsync(stoppingToken)) await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "Alert evaluation failed; retrying at the next pass.");
            }
        }
    }

    /// <summary>One pass: evaluate the rules, then announce alerts newer than the last announced one.</summary>
    public async Task RunOnceAsync(CancellationToken ct = default)
    {
        await _pass.WaitAsync(ct);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CimefDb>();
            var now = time.GetUtcNow().UtcDateTime;
            long? cursor = await StartCursorAsync(db, ct);
            await db.JobStates.Where(j => j.Name == JobName).ExecuteUpdateAsync(
                u => u.SetProperty(j => j.LastRunAt, now).SetProperty(j => j.RunBy, cluster.Value.NodeName), ct);
            await scope.ServiceProvider.GetRequiredService<AlertRules>().EvaluateAsync(now, ct);
            var fresh = await db.Alerts.AsNoTracking().Where(a => a.Id > cursor).OrderBy(a => a.Id).ToListAsync(ct);
            foreach (var alert in fresh)
            {
                // Claimed before it is announced: another node that moved the cursor first owns the rest of this pass.
                if (!await JobRuns.TryAdvanceAsync(db, JobName, cursor, alert.Id, ct)) return;
                cursor = alert.Id;
                // Handled before its announcement (folded into the hour's digest by the per-rule cap): not e-mailed.
                if (alert.AcknowledgedAt is null) await AnnounceAsync(alert, ct);
            }
        }
        finally
        {
            _pass.Release();
        }
    }

    /// <summary>
    /// The cursor; when the cluster has none yet, the latest alert: alerts that exist when the monitor first starts
    /// predate it (or were announced by a version that kept the cursor in memory).
    /// </summary>
    private static async Task<long> StartCursorAsync(CimefDb db, CancellationToken ct)
    {
        if (await JobRuns.CursorAsync(db, JobName, ct) is { } cursor) return cursor;
        var latest = await db.Alerts.MaxAsync(a => (int?)a.Id, ct) ?? 0;
        await JobRuns.TryAdvanceAsync(db, JobName, null, latest, ct);
        return await JobRuns.CursorAsync(db, JobName, ct) ?? latest;
    }

    public override void Dispose()
    {
        _pass.Dispose();
        base.Dispose();
    }

    /// <summary>
    /// Called once per new alert: logged, and e-mailed to <c>Alerts:Email</c> when set (SMTP or the pickup folder).
    /// A failed e-mail is logged and not retried: the alert stays on the alerts page until acknowledged.
    /// </summary>
    private async Task AnnounceAsync(Alert alert, CancellationToken ct)
    {
        log.LogWarning("Alert {Level} {Kind} — {Subject}: {Detail}", alert.Level, alert.Kind, alert.Subject, alert.Detail);
        if (string.IsNullOrWhiteSpace(options.Value.Email)) return;
        var message = new MimeKit.MimeMessage();
        message.To.Add(MimeKit.MailboxAddress.Parse(options.Value.Email));
        message.Subject = $"[CIMEF] Alerte {Labels.Level(alert.Level)} : {alert.Subject}";
        message.Body = new MimeKit.TextPart("plain")
        {
            Text = $"Alerte {Labels.Level(alert.Level)} — {clock.DateTime(alert.At)}\n\n{alert.Subject}\n{alert.Detail}\n\nÀ traiter sur la page Alertes du portail (personnel).\n",
        };
        try
        {
            await email.SendAsync(message, ct);
        }
        catch (Notifications.DeliveryException e)
        {
            log.LogWarning("Alert e-mail not sent: {Reason}", e.Message);
        }
    }
}
