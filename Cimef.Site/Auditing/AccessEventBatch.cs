using System.Threading.Channels;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;

namespace Cimef.Site.Auditing;

/// <summary>
/// Group commit for access events that are the only write of their request (report list views): they are
/// queued and committed together, one transaction per batch, a few milliseconds later, so a page view does not
/// wait for its own fsync. Trade-off (reported): a power cut can lose the list-view events of the last batch;
/// every event tied to a state change (login, download, refusals) is still written in its request's transaction.
/// </summary>
public sealed class AccessEventBatch(IServiceScopeFactory scopes, ILogger<AccessEventBatch> log) : BackgroundService
{
    private const int MaxBatch = 500;
    private readonly Channel<(AccessEvent? Event, TaskCompletionSource? Done)> _queue =
        Channel.CreateUnbounded<(AccessEvent?, TaskCompletionSource?)>(new UnboundedChannelOptions { SingleReader = true });

    public void Enqueue(AccessEvent ev)
    {
        if (!_queue.Writer.TryWrite((ev, null))) log.LogWarning("Access event {Kind} dropped: the writer is stopped.", ev.Kind);
    }

    /// <summary>Completes once every event queued before the call is committed.</summary>
    public Task FlushAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((null, done))) done.SetResult();
        return done.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<(AccessEvent? Event, TaskCompletionSource? Done)>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item)) batch.Add(item);
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<CimefDb>();
                    db.AccessEvents.AddRange(batch.Where(b => b.Event is not null).Select(b => b.Event!));
                    using (await scope.ServiceProvider.GetRequiredService<SqliteWriteGate>().EnterAsync(db, stoppingToken))
                        await db.SaveChangesAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogError(e, "Could not write {Count} access events.", batch.Count(b => b.Event is not null));
                }
                foreach (var b in batch) b.Done?.TrySetResult();
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _queue.Writer.TryComplete();
            foreach (var b in batch) b.Done?.TrySetResult();
            while (_queue.Reader.TryRead(out var item)) item.Done?.TrySetResult();
        }
    }
}
