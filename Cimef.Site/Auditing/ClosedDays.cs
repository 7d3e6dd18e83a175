using Cimef.Site.Data.Entities;
using Dapper;

namespace Cimef.Site.Auditing;

/// <summary>
/// The statistics of closed clinic days, read from the daily rollups once per period and day: a closed day
/// is never rewritten (<see cref="AccessEventRollups"/>), so only the open day is counted again on each view. Keyed by
/// the period's first day and the first open day; a handful of entries at most.
/// </summary>
public sealed class ClosedDays
{
    public sealed record Totals(
        IReadOnlyDictionary<(string Day, string Kind), long> Rolled,
        IReadOnlyDictionary<long, long> LoginsPerAccess,
        IReadOnlyDictionary<long, long> DownloadsPerReport,
        IReadOnlyDictionary<long, long> DownloadsPerAccess);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(DateOnly First, DateOnly Open), Totals> _kept = new();

    public async Task<Totals> GetAsync(System.Data.Common.DbConnection conn, DateOnly first, DateOnly open)
    {
        if (_kept.TryGetValue((first, open), out var totals)) return totals;
        var q = new { first, open, login = AccessEventKinds.LoginSuccess, download = AccessEventKinds.Download };
        var rolled = (await conn.QueryAsync<(DateOnly Day, string Kind, long N)>("""
            SELECT "Day", "Kind", CAST(SUM("Count") AS BIGINT) FROM "AccessEventDays"
            WHERE "Day" >= @first AND "Day" < @open GROUP BY "Day", "Kind"
            """, q)).ToDictionary(x => (DayKey(x.Day), x.Kind), x => x.N);
        var logins = (await conn.QueryAsync<(long Access, long N)>("""
            SELECT CAST("PatientAccessId" AS BIGINT), CAST(SUM("Count") AS BIGINT) FROM "AccessEventDays"
            WHERE "Day" >= @first AND "Day" < @open AND "Kind" = @login AND "PatientAccessId" <> 0 GROUP BY "PatientAccessId"
            """, q)).ToDictionary(x => x.Access, x => x.N);
        var perReport = (await conn.QueryAsync<(long Report, long N)>("""
            SELECT CAST("ReportId" AS BIGINT), CAST(SUM("Count") AS BIGINT) FROM "AccessEventDays"
            WHERE "Day" >= @first AND "Day" < @open AND "Kind" = @download AND "ReportId" <> 0 GROUP BY "ReportId"
            """, q)).ToDictionary(x => x.Report, x => x.N);
        var perAccess = (await conn.QueryAsync<(long Access, long N)>("""
            SELECT CAST("PatientAccessId" AS BIGINT), CAST(SUM("Count") AS BIGINT) FROM "AccessEventDays"
            WHERE "Day" >= @first AND "Day" < @open AND "Kind" = @download AND "PatientAccessId" <> 0 GROUP BY "PatientAccessId"
            """, q)).ToDictionary(x => x.Access, x => x.N);
        totals = new Totals(rolled, logins, perReport, perAccess);
        if (_kept.Count >= 8) _kept.Clear(); // yesterday's entries go when the day turns
        _kept[(first, open)] = totals;
        return totals;
    }

    /// <summary>The key of a clinic day in the statistics tables and charts.</summary>
    public static string DayKey(DateOnly day) => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
}
