using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Storage;

/// <summary>
/// Runs <see cref="IntegrityCheck"/> once per cluster at start and then every Reports:IntegrityCheckHours (default 24,
/// TimeProvider-driven): at start and every <c>Cluster:JobCheckSeconds</c>, the leader node runs it when its
/// <see cref="JobState"/> row says the last run (by any node) is that old. Off when Reports:IntegrityWorkerEnabled is false.
/// </summary>
public sealed class IntegrityWorker(
    IServiceScopeFactory scopes, IOptions<ReportsOptions> options, TimeProvider time, ClusterLeader leader,
    IOptions<ClusterOptions> cluster, ILogger<IntegrityWorker> log) : BackgroundService
{
    public const string JobName = "integrity-check";

    private TaskCompletionSource _pass = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the next pass ends (lets tests wait for the background check without sleeping).</summary>
    public Task NextPass => Volatile.Read(ref _pass).Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.IntegrityWorkerEnabled) return;
        // Created before the first await, so time advanced after start is never missed.
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(cluster.Value.JobCheckSeconds), time);
        await Task.Yield();
        do
        {
            try
            {
                if (!await leader.IsLeaderAsync(stoppingToken)) continue;
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<CimefDb>();
                var now = time.GetUtcNow().UtcDateTime;
                if (!await JobRuns.TryStartAsync(db, JobName, TimeSpan.FromHours(options.Value.IntegrityCheckHours), now, cluster.Value.NodeName, stoppingToken))
                    continue;
                var store = scope.ServiceProvider.GetRequiredService<ReportStore>();
                var problems = await IntegrityCheck.RunAsync(db, store, now, stoppingToken);
                if (problems.Count > 0) log.LogWarning("Integrity check: {Count} report file(s) missing or altered.", problems.Count);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogError(e, "Integrity check failed; it will run again at the next tick.");
            }
            Interlocked.Exchange(ref _pass, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try { return await timer.WaitForNextTickAsync(ct); }
        catch (OperationCanceledException) { return false; }
    }
}
