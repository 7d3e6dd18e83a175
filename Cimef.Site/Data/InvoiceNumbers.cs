using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Data;

/// <summary>
/// Invoice numbers FAC-yyyy-nnnnnn, sequential per year, never repeated: one atomic upsert on the
/// per-year counter, executed inside the caller's transaction (so a rolled-back invoice gives its number back).
/// The statement is standard enough for SQLite and PostgreSQL (ON CONFLICT … RETURNING).
/// </summary>
public static class InvoiceNumbers
{
    public static async Task<string> NextAsync(CimefDb db, int year, CancellationToken ct = default)
    {
        var next = await db.Database.SqlQuery<int>($"""
            INSERT INTO "InvoiceCounters" ("Year", "LastNumber") VALUES ({year}, 1)
            ON CONFLICT ("Year") DO UPDATE SET "LastNumber" = "InvoiceCounters"."LastNumber" + 1
            RETURNING "LastNumber" AS "Value"
            """).ToListAsync(ct);
        return Format(year, next.Single());
    }

    public static string Format(int year, int sequence) => $"FAC-{year}-{sequence:D6}";
}
