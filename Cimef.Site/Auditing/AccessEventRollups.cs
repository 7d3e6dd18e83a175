using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Cimef.Site.Auditing;

/// <summary>
/// Daily rollups of the AccessEvents the statistics read: for each closed clinic day, one
/// <see cref="AccessEventDay"/> row per kind, access and report with its count, and a <see cref="StatisticsDay"/>
/// marking the day complete with the UTC range it was counted over (a changed Clinic:TimeZone re-counts the day).
/// A day is closed once <see cref="Grace"/> has passed after its end, so an event timestamped just before midnight
/// and committed just after it (the report-list batch) is still counted; days not yet closed are read from the raw
/// events. Filled on demand by the statistics page and hourly by the retention job; a closed day is counted once and
/// never rewritten, so raw events deleted later by retention do not change it (the retention pass drops the
/// rollups of days before its cutoff itself, so no per-patient count outlives the retention period).
/// </summary>
public static class AccessEventRollups
{
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(10);

    /// <summary>The kinds rolled up: the ones the statistics page counts.</summary>
    public static readonly string[] Kinds = [AccessEventKinds.LoginSuccess, AccessEventKinds.Download];

    /// <summary>
    /// Makes sure every closed day from <paramref name="first"/> on has its rollups, and returns the first day that is
    /// not closed (from it on, the statistics count raw events).
    /// </summary>
    public static async Task<DateOnly> EnsureAsync(CimefDb db, ClinicClock clock, DateOnly first, DateTime now, CancellationToken ct = default)
    {
        var open = clock.DayOf(now - Grace);
        if (open <= first) return first;
        if ((await MissingAsync(db, clock, first, open, ct)).Count == 0) return open;

        // One filler at a time: SQLite's write transaction (BEGIN IMMEDIATE) serialises it, PostgreSQL takes an
        // advisory lock; the missing days are read again inside, as another request may just have filled them.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var conn = db.Database.GetDbConnection();
        var dialect = SqlDialect.Of(db);
        if (dialect.TransactionLock(LockSpace.StatisticsRollup, "@name") is { } lockSql)
            await conn.ExecuteAsync(new CommandDefinition(lockSql, new { name = "rollup" }, tx.GetDbTransaction(), cancellationToken: ct));
        foreach (var day in await MissingAsync(db, clock, first, open, ct))
        {
            var args = new
            {
                day, start = clock.DayStartUtc(day), end = clock.DayStartUtc(day.AddDays(1)), now,
                login = AccessEventKinds.LoginSuccess, download = AccessEventKinds.Download,
            };
            await conn.ExecuteAsync(new CommandDefinition("""
                DELETE FROM "AccessEventDays" WHERE "Day" = @day;
                DELETE FROM "StatisticsDays" WHERE "Day" = @day;
                INSERT INTO "AccessEventDays" ("Day", "Kind", "PatientAccessId", "ReportId", "Count")
                SELECT @day, "Kind", COALESCE("PatientAccessId", 0), COALESCE("ReportId", 0), COUNT(*) FROM "AccessEvents"
                WHERE ("Kind" = @login OR "Kind" = @download) AND "At" >= @start AND "At" < @end
                GROUP BY "Kind", COALESCE("PatientAccessId", 0), COALESCE("ReportId", 0);
                INSERT INTO "StatisticsDays" ("Day", "StartUtc", "EndUtc", "RolledAt") VALUES (@day, @start, @end, @now);
                """, args, tx.GetDbTransaction(), cancellationToken: ct));
        }
        await tx.CommitAsync(ct);
        return open;
    }

    /// <summary>Closed days in [first, open) without complete rollups for the clinic's current time zone.</summary>
    private static async Task<List<DateOnly>> MissingAsync(CimefDb db, ClinicClock clock, DateOnly first, DateOnly open, CancellationToken ct)
    {
        var done = (await db.Database.GetDbConnection().QueryAsync<(DateOnly Day, DateTime StartUtc, DateTime EndUtc)>(new CommandDefinition(
                """SELECT "Day", "StartUtc", "EndUtc" FROM "StatisticsDays" WHERE "Day" >= @first AND "Day" < @open""",
                new { first, open }, db.Database.CurrentTransaction?.GetDbTransaction(), cancellationToken: ct)))
            .ToDictionary(d => d.Day);
        var missing = new List<DateOnly>();
        for (var day = first; day < open; day = day.AddDays(1))
            if (!done.TryGetValue(day, out var d) || d.StartUtc != clock.DayStartUtc(day) || d.EndUtc != clock.DayStartUtc(day.AddDays(1)))
                missing.Add(day);
        return missing;
    }

    /// <summary>Retention: the rollups of days that began before <paramref name="cutoff"/>'s clinic day.</summary>
    public static async Task<int> PruneAsync(CimefDb db, ClinicClock clock, DateTime cutoff, CancellationToken ct = default)
    {
        var day = clock.DayOf(cutoff);
        var n = await db.AccessEventDays.Where(d => d.Day < day).ExecuteDeleteAsync(ct);
        await db.StatisticsDays.Where(d => d.Day < day).ExecuteDeleteAsync(ct);
        return n;
    }
}
