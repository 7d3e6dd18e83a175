using Cimef.Site.Data;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using Cimef.Site.Portal;

namespace Cimef.Site.Web;

/// <summary>
/// Response times of patient-side requests (<see cref="PatientSide"/>), aggregated per
/// minute into fixed latency buckets: in memory until flushed (every minute by <see cref="PortalTimingsFlusher"/>, on
/// shutdown, and before each alert pass), then added to this node's rows of the PortalTimings table, so the slow-portal
/// alert sees every node. The bucket edges include Alerts:SlowMilliseconds, so "p95 above the threshold" is decided
/// exactly; the p95 shown is the upper edge of the bucket holding it (nearest rank).
/// </summary>
public sealed class PortalTimings
{
    private static readonly int[] DefaultEdges = [10, 25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000];
    private readonly int[] _edges;
    private readonly string _node;
    private readonly Dictionary<long, long[]> _pending = [];
    private readonly Lock _gate = new();

    public PortalTimings(IOptions<AlertsOptions> alerts, IOptions<ClusterOptions> cluster)
    {
        _edges = [.. DefaultEdges.Append(alerts.Value.SlowMilliseconds).Append(int.MaxValue).Distinct().Order()];
        _node = cluster.Value.NodeName;
    }

    public void Record(DateTime atUtc, double milliseconds)
    {
        var minute = atUtc.Ticks - atUtc.Ticks % TimeSpan.TicksPerMinute;
        var bucket = Array.FindIndex(_edges, e => milliseconds <= e);
        lock (_gate)
        {
            if (!_pending.TryGetValue(minute, out var counts)) _pending[minute] = counts = new long[_edges.Length];
            counts[bucket]++;
        }
    }

    /// <summary>Adds the pending counts to this node's rows (one upsert per non-empty bucket); kept for the next flush on failure.</summary>
    public async Task FlushAsync(CimefDb db, CancellationToken ct = default)
    {
        List<(long Minute, long[] Counts)> taken;
        lock (_gate)
        {
            taken = [.. _pending.Select(kv => (kv.Key, kv.Value))];
            _pending.Clear();
        }
        if (taken.Count == 0) return;
        var rows = taken.SelectMany(t => t.Counts.Select((n, i) => new
        {
            node = _node, minute = new DateTime(t.Minute, DateTimeKind.Utc), upperMs = _edges[i], count = (int)n,
        })).Where(r => r.count > 0).ToList();
        try
        {
            await db.Database.GetDbConnection().ExecuteAsync(new CommandDefinition("""
                INSERT INTO "PortalTimings" ("Node", "Minute", "UpperMs", "Count") VALUES (@node, @minute, @upperMs, @count)
                ON CONFLICT ("Node", "Minute", "UpperMs") DO UPDATE SET "Count" = "PortalTimings"."Count" + excluded."Count"
                """, rows, db.Database.CurrentTransaction?.GetDbTransaction(), cancellationToken: ct));
        }
        catch
        {
            lock (_gate)
                foreach (var (minute, counts) in taken)
                {
                    if (!_pending.TryGetValue(minute, out var current)) _pending[minute] = current = new long[_edges.Length];
                    for (var i = 0; i < counts.Length; i++) current[i] += counts[i];
                }
            throw;
        }
    }

    /// <summary>
    /// Every node's requests since <paramref name="sinceUtc"/> (whole minutes): their number, the 95th percentile
    /// (nearest rank, as the upper edge of its bucket; the last bucket reports its lower edge) and the latest minute
    /// holding a request slower than <paramref name="slowMs"/>.
    /// </summary>
    public static async Task<(long Count, double P95, DateTime? LastSlowAt)> SinceAsync(CimefDb db, DateTime sinceUtc, int slowMs, CancellationToken ct = default)
    {
        var since = new DateTime(sinceUtc.Ticks - sinceUtc.Ticks % TimeSpan.TicksPerMinute, DateTimeKind.Utc);
        var buckets = (await db.Database.GetDbConnection().QueryAsync<(int UpperMs, long N, DateTime Last)>(new CommandDefinition("""
            SELECT "UpperMs", SUM("Count") AS "N", MAX("Minute") AS "Last" FROM "PortalTimings"
            WHERE "Minute" >= @since GROUP BY "UpperMs" ORDER BY "UpperMs"
            """, new { since }, db.Database.CurrentTransaction?.GetDbTransaction(), cancellationToken: ct))).ToList();
        var count = buckets.Sum(b => b.N);
        if (count == 0) return (0, 0, null);
        var rank = (long)Math.Ceiling(0.95 * count);
        double p95 = 0;
        long seen = 0;
        for (var i = 0; i < buckets.Count; i++)
        {
            seen += buckets[i].N;
            if (seen < rank) continue;
            p95 = buckets[i].UpperMs != int.MaxValue ? buckets[i].UpperMs : i > 0 ? buckets[i - 1].UpperMs : 0;
            break;
        }
        var slow = buckets.Where(b => b.UpperMs > slowMs).Select(b => (DateTime?)b.Last).Max();
        return (count, p95, slow);
    }
}

/// <summary>Measures each portal request into <see cref="PortalTimings"/>.</summary>
public sealed class PortalTimingMiddleware(RequestDelegate next, PortalTimings timings, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (PatientSide.Of(context) is null)
        {
            await next(context);
            return;
        }
        var start = time.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            timings.Record(time.GetUtcNow().UtcDateTime, time.GetElapsedTime(start).TotalMilliseconds);
        }
    }
}

/// <summary>
/// Writes this node's pending portal timings to the database every minute and once more on shutdown, and deletes
/// rows older than a day (the alert looks back 15 minutes).
/// </summary>
public sealed class PortalTimingsFlusher(PortalTimings timings, IServiceScopeFactory scopes, TimeProvider time, ILogger<PortalTimingsFlusher> log) : BackgroundService
{
    private static readonly TimeSpan Keep = TimeSpan.FromDays(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await FlushAsync(purge: true, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(purge: false, cancellationToken);
    }

    private async Task FlushAsync(bool purge, CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CimefDb>();
            await timings.FlushAsync(db, ct);
            if (purge)
                await db.Database.GetDbConnection().ExecuteAsync(new CommandDefinition("""DELETE FROM "PortalTimings" WHERE "Minute" < @before""",
                    new { before = time.GetUtcNow().UtcDateTime - Keep }, cancellationToken: ct));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning(e, "Portal timings could not be written to the database; kept for the next attempt.");
        }
    }
}
