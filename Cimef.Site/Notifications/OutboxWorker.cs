using Microsoft.Extensions.Options;

namespace Cimef.Site.Notifications;

/// <summary>
/// Sends the outbox in the background: one <see cref="OutboxProcessor"/> pass at start and then every
/// Notifications:PollSeconds (TimeProvider-driven). Off when Notifications:WorkerEnabled is false.
/// </summary>
public sealed class OutboxWorker(IServiceScopeFactory scopes, IOptions<NotificationsOptions> options, TimeProvider time, ILogger<OutboxWorker> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.WorkerEnabled) return;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.PollSeconds), time);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var processor = scope.ServiceProvider.GetRequiredService<OutboxProcessor>();
                while (await processor.ProcessDueAsync(stoppingToken) == OutboxProcessor.BatchSize) { }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogError(e, "Outbox pass failed; it will run again at the next tick.");
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
