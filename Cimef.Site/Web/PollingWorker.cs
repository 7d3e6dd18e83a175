using Cimef.Site.Notifications;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Web;

/// <summary>
/// A background pass at start and then every Notifications:PollSeconds (TimeProvider-driven), in a scope of its own;
/// off when Notifications:WorkerEnabled is false. A failed pass is logged and the next tick tries again.
/// </summary>
public abstract class PollingWorker(IServiceScopeFactory scopes, IOptions<NotificationsOptions> options, TimeProvider time, ILogger log)
    : BackgroundService
{
    /// <summary>What the log says failed ("Outbox pass").</summary>
    protected abstract string PassName { get; }

    protected abstract Task PassAsync(IServiceProvider services, CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.WorkerEnabled) return;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.PollSeconds), time);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await PassAsync(scope.ServiceProvider, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogError(e, "{Pass} failed; it will run again at the next tick.", PassName);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try { return await timer.WaitForNextTickAsync(ct); }
        catch (OperationCanceledException) { return false; }
    }
}
