using System.Threading.Channels;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;

namespace Cimef.Site.Auditing;

/// <summary>
/// Group commit for access events that are the only write of their request (report list views): concurrent
/// requests' events are committed together in one transaction (one fsync instead of one each). The caller
/// awaits its batch's commit, so the event is as durable as if it had been written alone.
/// </summary>
public sealed class AccessEventBatch(IServiceScopeFactory scopes) : BackgroundService
{
    private const int MaxBatch = 500;
    private readonly Channel<(AccessEvent Event, TaskCompletionSource Done)> _queue =
        Channel.CreateUnbounded<(AccessEvent, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });

    public Task WriteAsync(AccessEvent ev)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((ev, done))) done.SetException(new InvalidOperationException("The event writer is stopped."));
        return done.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<(AccessEvent Event, TaskCompletionSource Done)>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item)) batch.Add(item);
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<CimefDb>();
                    db.AccessEvents.AddRange(batch.Select(b => b.Event));
                    await db.SaveChangesAsync(stoppingToken);
                    foreach (var b in batch) b.Done.TrySetResult();
                }
                catch (Exception e)
                {
                    foreach (var b in batch) b.Done.TrySetException(e);
                }
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var item)) item.Done.TrySetCanceled(stoppingToken);
        }
    }
}
