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
    public static void MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", Health).AllowAnonymous().RequireRateLimiting(RateLimits.Health);
        app.MapGet("/healthz/live", Live).AllowAnonymous().RequireRateLimiting(RateLimits.Health);
        app.MapGet("/healthz/ready", Ready).AllowAnonymous().RequireRateLimiting(RateLimits.Health);
    }

    private static async Task<IResult> Health(CimefDb db, ReportStore reports, TimeProvider time, CancellationToken ct)
    {
        var database = await DatabaseReachableAsync(db, ct) ? "ok" : "error";
        var store = await StorageWritableAsync(reports, time, ct) ? "ok" : "error";
        var healthy = database == "ok" && store == "ok";
        return Results.Json(new { status = healthy ? "ok" : "degraded", database, storage = store },
            statusCode: healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>
    /// Liveness: the process answers requests. Nothing outside it is asked, so a node that lost its database is not
    /// restarted by its supervisor (a restart would not bring the database back); readiness takes it out of rotation.
    /// </summary>
    private static IResult Live() => Results.Json(new { status = "ok" });

    /// <summary>
    /// Readiness: this node can serve — database reachable with this build's migrations applied, report store writable,
    /// key ring readable. A load balancer sends nothing to a node answering 503 here until it answers 200 again.
    /// </summary>
    private static async Task<IResult> Ready(CimefDb db, ReportStore reports, TimeProvider time,
        Microsoft.AspNetCore.DataProtection.KeyManagement.IKeyManager keys, CancellationToken ct)
    {
        var database = "ok";
        try
        {
            if ((await DatabaseStartup.PendingMigrationsAsync(db, db.Database.IsSqlite(), ct)).Count > 0) database = "migrations_pending";
        }
        catch (Exception) when (!ct.IsCancellationRequested) { database = "error"; }
        var store = await StorageWritableAsync(reports, time, ct) ? "ok" : "error";
        var keyRing = "ok";
        try
        {
            _ = keys.GetAllKeys(); // reads the repository (keys folder or database) on every call
        }
        catch (Exception) { keyRing = "error"; }
        var ready = database == "ok" && store == "ok" && keyRing == "ok";
        return Results.Json(new { status = ready ? "ok" : "not_ready", database, storage = store, key_ring = keyRing },
            statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<bool> DatabaseReachableAsync(CimefDb db, CancellationToken ct)
    {
        try
        {
            await db.Database.ExecuteSqlRawAsync("SELECT 1", ct);
            return true;
        }
        catch (Exception) { return false; }
    }

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
