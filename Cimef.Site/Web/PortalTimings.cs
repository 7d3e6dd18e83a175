namespace Cimef.Site.Web;

/// <summary>
/// Response times of patient-portal requests (/patient, /Portal, /api/patients/portal, /api/reports) kept in a fixed
/// in-memory ring buffer; the alert monitor reads the p95 over the last minutes. Thread-safe, allocation-free per request.
/// </summary>
public sealed class PortalTimings
{
    public const int Capacity = 8192;
    private readonly (long AtTicks, double Ms)[] _samples = new (long, double)[Capacity];
    private long _count;
    private readonly Lock _gate = new();

    public static bool IsPortal(PathString path) =>
        path.StartsWithSegments("/patient", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/Portal", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/api/patients/portal", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/api/reports", StringComparison.OrdinalIgnoreCase);

    public void Record(DateTime atUtc, double milliseconds)
    {
        lock (_gate)
        {
            _samples[_count % Capacity] = (atUtc.Ticks, milliseconds);
            _count++;
        }
    }

    /// <summary>Number of samples, 95th percentile (nearest rank) and time of the latest sample over the threshold, since <paramref name="sinceUtc"/>.</summary>
    public (int Count, double P95, DateTime? LastSlowAt) Since(DateTime sinceUtc, double slowMs)
    {
        List<double> values;
        long lastSlow = 0;
        lock (_gate)
        {
            var n = (int)Math.Min(_count, Capacity);
            values = new List<double>(n);
            for (var i = 0; i < n; i++)
            {
                var (at, ms) = _samples[i];
                if (at < sinceUtc.Ticks) continue;
                values.Add(ms);
                if (ms > slowMs && at > lastSlow) lastSlow = at;
            }
        }
        if (values.Count == 0) return (0, 0, null);
        values.Sort();
        var rank = (int)Math.Ceiling(0.95 * values.Count) - 1;
        return (values.Count, values[rank], lastSlow == 0 ? null : new DateTime(lastSlow, DateTimeKind.Utc));
    }
}

/// <summary>Measures each portal request into <see cref="PortalTimings"/>.</summary>
public sealed class PortalTimingMiddleware(RequestDelegate next, PortalTimings timings, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!PortalTimings.IsPortal(context.Request.Path))
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
