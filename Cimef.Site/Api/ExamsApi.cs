using Cimef.Site.Data;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Api;

/// <summary>GET /api/exams/: the active catalogue.</summary>
public static class ExamsApi
{
    public static void MapExamsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/exams/", ListAsync).RequireAuthorization(Policies.Billing);
    }

    private static async Task<IResult> ListAsync(CimefDb db, CancellationToken ct) =>
        Results.Json(await db.Exams.AsNoTracking().Where(e => e.IsActive).OrderBy(e => e.Modality).ThenBy(e => e.Name)
            .Select(e => new { code = e.Code, name = e.Name, modality = e.Modality, price = e.Price })
            .ToListAsync(ct));
}
