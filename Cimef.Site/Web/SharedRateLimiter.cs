using System.Threading.RateLimiting;
using Cimef.Site.Data;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Web;

/// <summary>
/// The flood limits (patient login, staff sign-in) as partitions of the built-in rate limiting middleware, so the
/// 429, its Retry-After and its bodies stay those of OnRejected. On PostgreSQL several nodes serve one clinic, so a
/// per-process window would let N nodes take N times the limit: the window is counted in the database instead
/// (<see cref="DatabaseWindowLimiter"/>). On SQLite (one node) the in-memory fixed window stays — a database write per
/// login would cost an fsync.
/// </summary>
public static class SharedRateLimits
{
    public static RateLimitPartition<string> PerMinute(HttpContext http, string policy, int permitLimit)
    {
        var bucket = ClientIp.Bucket(http);
        var sp = http.RequestServices;
        if (!sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.IsPostgres)
            return RateLimitPartition.GetFixedWindowLimiter(bucket, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = permitLimit,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
            });
        var scopes = sp.GetRequiredService<IServiceScopeFactory>();
        var time = sp.GetRequiredService<TimeProvider>();
        return RateLimitPartition.Get(bucket, key => new DatabaseWindowLimiter(policy, key, permitLimit, scopes, time));
    }
}

/// <summary>
/// A fixed one-minute window counted in the RateLimitCounters table: one atomic upsert per request
/// (INSERT … ON CONFLICT DO UPDATE … RETURNING) gives this request's rank in its window on every node at once.
/// Windows that have ended are deleted by the first request of each new minute on each node (an indexed range delete).
/// The middleware first tries <see cref="AttemptAcquireCore"/> (synchronous, so it cannot ask the database and
/// answers "not yet"), then awaits <see cref="AcquireAsyncCore"/>, which decides. The only state kept in the process:
/// the last use (idle clean-up) and the window in which this bucket was already refused (no query for the rest of a flood).
/// </summary>
public sealed class DatabaseWindowLimiter(string policy, string bucket, int permitLimit, IServiceScopeFactory scopes, TimeProvider time) : RateLimiter
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private static long _purgedWindow;
    private long _lastUse = time.GetTimestamp();
    private long _refusedWindow;

    public override TimeSpan? IdleDuration => time.GetElapsedTime(Interlocked.Read(ref _lastUse));

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Lease.Pending;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _lastUse, time.GetTimestamp());
        var now = time.GetUtcNow().UtcDateTime;
        var window = new DateTime(now.Ticks - now.Ticks % Window.Ticks, DateTimeKind.Utc);
        // A window's count only grows: once this bucket is refused, the rest of the flood is refused without a query.
        if (Interlocked.Read(ref _refusedWindow) == window.Ticks) return new Lease(false, window + Window - now);
        await using var scope = scopes.CreateAsyncScope();
        var conn = scope.ServiceProvider.GetRequiredService<CimefDb>().Database.GetDbConnection();
        if (Interlocked.Exchange(ref _purgedWindow, window.Ticks) != window.Ticks)
            await conn.ExecuteAsync(new CommandDefinition("""DELETE FROM "RateLimitCounters" WHERE "WindowStart" < @window""",
                new { window }, cancellationToken: cancellationToken));
        var count = await conn.ExecuteScalarAsync<int>(new CommandDefinition("""
            INSERT INTO "RateLimitCounters" ("Policy", "Bucket", "WindowStart", "Count") VALUES (@policy, @bucket, @window, @permitCount)
            ON CONFLICT ("Policy", "Bucket", "WindowStart") DO UPDATE SET "Count" = "RateLimitCounters"."Count" + excluded."Count"
            RETURNING "Count"
            """, new { policy, bucket, window, permitCount }, cancellationToken: cancellationToken));
        if (count <= permitLimit) return Lease.Granted;
        Interlocked.Exchange(ref _refusedWindow, window.Ticks);
        return new Lease(false, window + Window - now);
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(true, null);
        public static readonly Lease Pending = new(false, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
