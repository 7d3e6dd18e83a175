using Cimef.Site.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Api;

public static class HealthApi
{
    /// <summary>/healthz: database reachable and writable reports folder; 503 when either fails. No details that help an attacker.</summary>
    public static void MapHealth(this IEndpointRouteBuilder app) => app.MapGet("/healthz", async (CimefDb db, IOptions<StorageOptions> storage, CancellationToken ct) =>
    {
        var database = "ok";
        try { await db.Database.ExecuteSqlRawAsync("SELECT 1", ct); }
        catch (Exception) { database = "error"; }

        var store = "ok";
        try
        {
            var probe = Path.Combine(storage.Value.ReportsDirectory, ".health-" + Guid.NewGuid().ToString("N"));
            await File.WriteAllTextAsync(probe, "ok", ct);
            File.Delete(probe);
        }
        catch (Exception) { store = "error"; }

        var healthy = database == "ok" && store == "ok";
        return Results.Json(new { status = healthy ? "ok" : "degraded", database, storage = store },
            statusCode: healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }).AllowAnonymous();
}
