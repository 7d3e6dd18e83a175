using Cimef.Site.Data;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Api;

public static class HealthApi
{
    /// <summary>A storage probe result is reused this long: a polled or flooded /healthz writes no file per call.</summary>
    public static readonly TimeSpan ProbeCacheFor = TimeSpan.FromSeconds(5);

    private static readonly Lock ProbeLock = new();
    private static readonly Dictionary<string, (DateTimeOffset At, bool Ok)> Probes = [];

    /// <summary>/healthz: database reachable and writable reports folder; 503 when either fails. No details that help an attacker.</summary>
    public static void MapHealth(this IEndpointRouteBuilder app) => app.MapGet("/healthz", async (CimefDb db, IOptions<StorageOptions> storage, TimeProvider time, CancellationToken ct) =>
    {
        var database = "ok";
        try { await db.Database.ExecuteSqlRawAsync("SELECT 1", ct); }
        catch (Exception) { database = "error"; }

        var store = StorageWritable(storage.Value.ReportsDirectory, time) ? "ok" : "error";

        var healthy = database == "ok" && store == "ok";
        return Results.Json(new { status = healthy ? "ok" : "degraded", database, storage = store },
            statusCode: healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }).AllowAnonymous().RequireRateLimiting(RateLimits.Health);

    /// <summary>Writes and deletes a probe file at most once per <see cref="ProbeCacheFor"/> per folder.</summary>
    private static bool StorageWritable(string directory, TimeProvider time)
    {
        var now = time.GetUtcNow();
        lock (ProbeLock)
        {
            if (Probes.TryGetValue(directory, out var last) && now - last.At < ProbeCacheFor && now >= last.At) return last.Ok;
            bool ok;
            try
            {
                var probe = Path.Combine(directory, ".health-" + Guid.NewGuid().ToString("N"));
                File.WriteAllText(probe, "ok");
                File.Delete(probe);
                ok = true;
            }
            catch (Exception) { ok = false; }
            Probes[directory] = (now, ok);
            return ok;
        }
    }
}
