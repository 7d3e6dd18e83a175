using System.Threading.Channels;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;

namespace Cimef.Site.Auditing;

/// <summary>
/// Group commit for the access events of the patient's hot paths, one transaction per batch:
/// <list type="bullet">
/// <item><see cref="Enqueue"/>: an event that is the only write of its request (report list views) is committed a
/// few milliseconds later, so a page view does not wait for its own fsync. Trade-off (reported): a power cut can lose
/// the list-view events of the last batch.</item>
/// <item><see cref="CommitAsync"/>: a download's event, with its report's download count, is committed before the
/// request goes on (the bytes are sent after it), in the same transaction as the other requests that arrived
/// meanwhile: one fsync for a burst of downloads instead of one or two per download, and no download ever waits in
/// SQLite's busy handler.</item>
/// </list>
/// The other events tied to a state change (logins, refusals) are written in their request's own transaction.
/// Audit entries of read-only staff traffic (an integration polling FHIR every minute, the report files it fetches)
/// go through the same writer, so a read costs no fsync of its own.
/// </summary>
public sealed class AccessEventBatch(IServiceScopeFactory scopes, ILogger<AccessEventBatch> log) : BackgroundService
{
    private const int MaxBatch = 500;

    /// <summary>An access event or an audit entry to write; <see cref="CountsDownloadOf"/>: the report whose download count it adds one to.</summary>
    private sealed record Item(AccessEvent? Event, AuditEntry? Entry, int? CountsDownloadOf, TaskCompletionSource? Done)
    {
        public bool Writes => Event is not null || Entry is not null;
        public DateTime At => Event?.At ?? Entry!.At;
    }

    private readonly Channel<Item> _queue = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = true });

    public void Enqueue(AccessEvent ev)
    {
        if (!_queue.Writer.TryWrite(new Item(ev, null, null, null))) log.LogWarning("Access event {Kind} dropped: the writer is stopped.", ev.Kind);
    }

    /// <summary>An audit entry that is the only write of its request, committed with the next batch.</summary>
    public void Enqueue(AuditEntry entry)
    {
        if (!_queue.Writer.TryWrite(new Item(null, entry, null, null))) log.LogWarning("Audit entry {Action} dropped: the writer is stopped.", entry.Action);
    }

    /// <summary>
    /// Completes once <paramref name="ev"/> (and, with <paramref name="countsDownloadOf"/>, that report's download count
    /// + 1 and last download time) is committed; throws if that transaction failed. Written directly when the
    /// writer has stopped (shutdown).
    /// </summary>
    public Task CommitAsync(AccessEvent ev, int? countsDownloadOf = null) => CommitAsync(new Item(ev, null, countsDownloadOf, Waiter()));

    /// <summary>The same for an audit entry (a report file fetched by an integration account).</summary>
    public Task CommitAsync(AuditEntry entry, int? countsDownloadOf = null) => CommitAsync(new Item(null, entry, countsDownloadOf, Waiter()));

    private static TaskCompletionSource Waiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Task CommitAsync(Item item) => _queue.Writer.TryWrite(item) ? item.Done!.Task : WriteAsync([item], CancellationToken.None);

    /// <summary>Completes once every event queued before the call is committed.</summary>
    public Task FlushAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite(new Item(null, null, null, done))) done.SetResult();
        return done.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Item>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item)) batch.Add(item);
                Exception? failure = null;
                try
                {
                    await WriteAsync(batch, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failure = e;
                    log.LogError(e, "Could not write {Count} access events and audit entries.", batch.Count(b => b.Writes));
                }
                // A flush marker only waits for what came before it; a commit waiter learns whether its write failed.
                foreach (var b in batch)
                    if (failure is not null && b.Writes) b.Done?.TrySetException(failure);
                    else b.Done?.TrySetResult();
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _queue.Writer.TryComplete();
            // What was queued but not written: the waiters' events are written now, the others' flush markers released.
            batch.AddRange(DrainQueue());
            var waiting = batch.Where(b => b is { Writes: true, Done: not null }).ToList();
            try
            {
                if (waiting.Count > 0) await WriteAsync(waiting, CancellationToken.None);
                foreach (var b in batch) b.Done?.TrySetResult();
            }
            catch (Exception e)
            {
                foreach (var b in batch) b.Done?.TrySetException(e);
            }
        }
    }

    private IEnumerable<Item> DrainQueue()
    {
        while (_queue.Reader.TryRead(out var item)) yield return item;
    }

    /// <summary>One transaction (<see cref="HotQueries.WriteAsync{T}"/>: compiled statements): the download counts, then every event and entry.</summary>
    private async Task WriteAsync(IReadOnlyList<Item> items, CancellationToken ct)
    {
        if (!items.Any(i => i.Writes)) return;
        await using var scope = scopes.CreateAsyncScope();
        var services = scope.ServiceProvider;
        await services.GetRequiredService<HotQueries>().WriteAsync(() => services.GetRequiredService<CimefDb>(), async c =>
        {
            foreach (var downloads in items.Where(i => i.CountsDownloadOf is not null).GroupBy(i => i.CountsDownloadOf!.Value))
                await c.ExecuteAsync(CountDownloadsSql, cmd =>
                {
                    HotQueries.Add(cmd, "id", downloads.Key);
                    HotQueries.Add(cmd, "count", downloads.Count());
                    HotQueries.Add(cmd, "at", downloads.Max(i => i.At));
                }, ct);
            foreach (var item in items)
                if (item.Event is { } ev) await Audit.InsertAsync(c, ev, ct);
                else if (item.Entry is { } entry) await Audit.InsertAsync(c, entry, ct);
            return 0;
        }, ct);
    }

    private const string CountDownloadsSql = """
        UPDATE "PatientReports" SET "DownloadCount" = "DownloadCount" + @count, "LastDownloadAt" = @at WHERE "Id" = @id
        """;
}
