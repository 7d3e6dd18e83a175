using System.Net;
using Cimef.Site.Auditing;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Auditing;

/// <summary>The daily rollups equal the raw counts, stay put when retention prunes, and leave the open day to raw events.</summary>
public class StatisticsRollupTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private sealed record Key(DateOnly Day, string Kind, int Access, int Report);

    private async Task<List<AccessEvent>> SeedAsync()
    {
        var now = factory.Time.GetUtcNow().UtcDateTime;
        var p = await factory.Data.PatientAsync();
        var q = await factory.Data.PatientAsync();
        var r1 = await factory.Data.ReportAsync(p, "Rollup A", createdAt: now.AddDays(-50));
        var r2 = await factory.Data.ReportAsync(q, "Rollup B", createdAt: now.AddDays(-50));
        var rnd = new Random(13);
        var events = new List<AccessEvent>();
        for (var i = 0; i < 400; i++)
        {
            var at = now.AddMinutes(-rnd.Next(0, 45 * 24 * 60));
            var (access, report) = rnd.Next(2) == 0 ? (p.AccessId, r1) : (q.AccessId, r2);
            events.Add(rnd.Next(4) switch
            {
                0 => AuditData.Event(AccessEventKinds.LoginSuccess, at, access),
                1 => AuditData.Event(AccessEventKinds.Download, at, access, report),
                2 => AuditData.Event(AccessEventKinds.Download, at, null, report),
                _ => AuditData.Event(AccessEventKinds.ReportList, at, access),
            });
        }
        // Around midnights: the last instant of a day and the first of the next.
        events.Add(AuditData.Event(AccessEventKinds.LoginSuccess, now.Date.AddDays(-3).AddTicks(-1), p.AccessId));
        events.Add(AuditData.Event(AccessEventKinds.LoginSuccess, now.Date.AddDays(-3), p.AccessId));
        await factory.WithDbAsync(async db => { db.AccessEvents.AddRange(events); return await db.SaveChangesAsync(); });
        return events;
    }

    [Fact]
    public async Task Rollups_of_closed_days_equal_the_raw_counts_and_the_open_day_is_not_rolled()
    {
        var events = await SeedAsync();
        var admin = await factory.StaffClientAsync(Roles.Admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/Audit/Statistics?days=90")).StatusCode);

        var clock = factory.Services.GetRequiredService<ClinicClock>();
        var today = clock.Today;
        var rolled = await factory.WithDbAsync(db => db.AccessEventDays.ToListAsync());
        var expected = events.Where(e => AccessEventRollups.Kinds.Contains(e.Kind) && clock.DayOf(e.At) < today)
            .GroupBy(e => new Key(clock.DayOf(e.At), e.Kind, e.PatientAccessId ?? 0, e.ReportId ?? 0))
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.True(expected.Count > 50);
        Assert.Equal(expected.OrderBy(x => x.Key.ToString()), rolled
            .Select(r => KeyValuePair.Create(new Key(r.Day, r.Kind, r.PatientAccessId, r.ReportId), r.Count)).OrderBy(x => x.Key.ToString()));
        Assert.DoesNotContain(rolled, r => r.Day >= today);
        var marked = await factory.WithDbAsync(db => db.StatisticsDays.Select(d => d.Day).ToListAsync());
        Assert.Equal(89, marked.Count); // the 90 days shown, but today
        Assert.Equal(today.AddDays(-1), marked.Max());

        // Retention prunes raw events: the statistics of kept days do not change, the rollups before the cutoff go.
        var before = await (await admin.GetAsync("/Audit/Statistics?handler=Csv&table=daily&days=90")).Content.ReadAsStringAsync();
        var now = factory.Time.GetUtcNow().UtcDateTime;
        await factory.WithDbAsync(async db =>
        {
            await Retention.PruneAsync(db, now, 20);
            return await AccessEventRollups.PruneAsync(db, clock, now.AddDays(-40));
        });
        Assert.True(await factory.WithDbAsync(db => db.AccessEvents.CountAsync(e => e.At < now.AddDays(-20))) == 0);
        Assert.DoesNotContain(await factory.WithDbAsync(db => db.AccessEventDays.ToListAsync()), r => r.Day < clock.DayOf(now.AddDays(-40)));
        var after = await (await admin.GetAsync("/Audit/Statistics?handler=Csv&table=daily&days=30")).Content.ReadAsStringAsync();
        Assert.Equal(Last30(before), Last30(after));
    }

    /// <summary>The last 30 data rows of a daily CSV (the days both exports share).</summary>
    private static string Last30(string csv)
    {
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join('\n', lines[^30..]);
    }
}

/// <summary>The rollup grace after midnight (a fixture of its own: it moves the clock).</summary>
public class StatisticsRollupGraceTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Fact]
    public async Task Yesterday_stays_raw_during_the_grace_after_midnight_so_a_late_event_still_counts()
    {
        var clock = factory.Services.GetRequiredService<ClinicClock>();
        var now = factory.Time.GetUtcNow().UtcDateTime;
        var midnight = clock.DayStartUtc(clock.Today.AddDays(1));
        // Two minutes after midnight: yesterday (the day just ended) is still open.
        factory.Time.Advance(midnight.AddMinutes(2) - now);
        var open = await factory.WithDbAsync(db => AccessEventRollups.EnsureAsync(db, clock, clock.Today.AddDays(-5), factory.Time.GetUtcNow().UtcDateTime));
        Assert.Equal(clock.Today.AddDays(-1), open);
        // An event of the day just ended committed late is counted once the grace is over.
        await factory.WithDbAsync(async db => { db.AccessEvents.Add(AuditData.Event(AccessEventKinds.LoginSuccess, midnight.AddSeconds(-1), null)); return await db.SaveChangesAsync(); });
        factory.Time.Advance(AccessEventRollups.Grace);
        var after = await factory.WithDbAsync(db => AccessEventRollups.EnsureAsync(db, clock, clock.Today.AddDays(-5), factory.Time.GetUtcNow().UtcDateTime));
        Assert.Equal(clock.Today, after);
        var day = clock.DayOf(midnight.AddSeconds(-1));
        Assert.Equal(1, await factory.WithDbAsync(db => db.AccessEventDays.Where(d => d.Day == day && d.Kind == AccessEventKinds.LoginSuccess).SumAsync(d => d.Count)));
    }
}
