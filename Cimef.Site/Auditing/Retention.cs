using Cimef.Site.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Auditing;

/// <summary>
/// The only delete of AccessEvents and AuditEntries: rows older than <c>Audit:RetentionDays</c> are removed in
/// small batches (short write transactions, the portal keeps working). Statistics read at most 90 days, so they
/// stay exact for the kept window. Each prune that removed something leaves one audit line.
/// </summary>
public static class Retention
{
    public const int BatchSize = 5000;

    public static async Task<(int Events, int AuditEntries)> PruneAsync(CimefDb db, DateTime now, int retentionDays, CancellationToken ct = default)
    {
        var cutoff = now.AddDays(-retentionDays);
        var events = 0;
        int n;
        do
        {
            n = await db.AccessEvents.Where(e => e.At < cutoff).OrderBy(e => e.Id).Take(BatchSize).ExecuteDeleteAsync(ct);
            events += n;
        } while (n == BatchSize);
        var audits = 0;
        do
        {
            n = await db.AuditEntries.Where(e => e.At < cutoff).OrderBy(e => e.Id).Take(BatchSize).ExecuteDeleteAsync(ct);
            audits += n;
        } while (n == BatchSize);
        if (events + audits > 0)
        {
            Audit.Staff(db, null, "système", now, "retention.prune", "AccessEvent", null,
                $"{events} événements patients et {audits} entrées du journal antérieurs au {cutoff:yyyy-MM-dd} supprimés ({retentionDays} jours de conservation).");
            await db.SaveChangesAsync(ct);
        }
        return (events, audits);
    }

    /// <summary>
    /// Login failures only matter inside the throttle window (and the alert rules' look-back over it): older rows
    /// are deleted so the table stays as small as the current attack, not the sum of all past ones.
    /// </summary>
    public static async Task<int> PruneLoginFailuresAsync(CimefDb db, DateTime now, int windowSeconds, CancellationToken ct = default)
    {
        var keep = TimeSpan.FromSeconds(windowSeconds) > AlertRules.KeysPerIpWindow ? TimeSpan.FromSeconds(windowSeconds) : AlertRules.KeysPerIpWindow;
        var cutoff = now - keep;
        var removed = 0;
        int n;
        do
        {
            n = await db.LoginFailures.Where(f => f.At < cutoff).OrderBy(f => f.Id).Take(BatchSize).ExecuteDeleteAsync(ct);
            removed += n;
        } while (n == BatchSize);
        return removed;
    }
}

/// <summary>
/// Runs <see cref="Retention.PruneAsync"/>, <see cref="Retention.PruneLoginFailuresAsync"/> and the statistics rollups
/// once an hour per cluster (on the injected <see cref="TimeProvider"/>): every <c>Cluster:JobCheckSeconds</c> the
/// leader node runs it when its <see cref="JobState"/> row says the last run is an hour old.
/// </summary>
public sealed class RetentionJob(
    IServiceScopeFactory scopes, TimeProvider time, Web.ClinicClock clock, ClusterLeader leader, IOptions<ClusterOptions> cluster,
    IOptions<AuditOptions> options, IOptions<PortalOptions> portal, ILogger<RetentionJob> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);
    public const string JobName = "retention";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(cluster.Value.JobCheckSeconds), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (!await leader.IsLeaderAsync(stoppingToken)) continue;
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<CimefDb>();
                var now = time.GetUtcNow().UtcDateTime;
                if (!await JobRuns.TryStartAsync(db, JobName, Interval, now, cluster.Value.NodeName, stoppingToken)) continue;
                var (events, audits) = await Retention.PruneAsync(db, now, options.Value.RetentionDays, stoppingToken);
                if (events + audits > 0) log.LogInformation("Retention pruned {Events} access events and {Audits} audit entries.", events, audits);
                await Retention.PruneLoginFailuresAsync(db, now, portal.Value.LoginAttemptDelaySeconds, stoppingToken);
                // Statistics rollups: none older than the kept events; yesterday's counted here rather than by the first page view.
                await AccessEventRollups.PruneAsync(db, clock, now.AddDays(-options.Value.RetentionDays), stoppingToken);
                await AccessEventRollups.EnsureAsync(db, clock, clock.Today.AddDays(-(Pages.AuditPages.StatisticsModel.Periods.Max() - 1)), now, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "Retention pass failed; retrying at the next pass.");
            }
        }
    }
}
