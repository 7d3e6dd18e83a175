using System.Runtime.CompilerServices;
using Cimef.Site.Data;
using Cimef.Site.Storage;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Api;

public static class HealthApi
{
    /// <summary>A storage probe result is reused this long: a polled or flooded /healthz writes no file per call.</summary>
    public static readonly TimeSpan ProbeCacheFor = TimeSpan.FromSeconds(5);

    private static readonly Lock ProbeLock = new();
    private static readonly ConditionalWeakTable<ReportStore, StrongBox<(DateTimeOffset At, bool Ok)>> Probes = [];

    /// <summary>
    /// /healthz (the load balancer's check): database reachable and report store writable (the reports folder or the
    /// S3 bucket); 503 when either fails. No details that help an attacker.
    /// </summary>
    public static void MapHealth(this IEndpointRouteBuilder app) => app.MapGet("/healthz", async (CimefDb db, ReportStore reports, TimeProvider time, CancellationToken ct) =>
    {
        var database = "ok";
        try { await db.Database.ExecuteSqlRawAsync("SELECT 1", ct); }
        catch (Exception) { database = "error"; }

        var store = await StorageWritableAsync(reports, time, ct) ? "ok" : "error";

        var healthy = database == "ok" && store == "ok";
        return Results.Json(new { status = healthy ? "ok" : "degraded", database, storage = store },
            statusCode: healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }).AllowAnonymous().RequireRateLimiting(RateLimits.Health);

    /// <summary>Stores and deletes a probe at most once per <see cref="ProbeCacheFor"/> (per store).</summary>
    private static async Task<bool> StorageWritableAsync(ReportStore reports, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        lock (ProbeLock)
            if (Probes.TryGetValue(reports, out var last) && now - last.Value.At < ProbeCacheFor && now >= last.Value.At) return last.Value.Ok;
        var ok = await reports.ProbeAsync(ct);
        lock (ProbeLock) Probes.AddOrUpdate(reports, new((now, ok)));
        return ok;
    }
}
