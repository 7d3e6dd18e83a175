using Cimef.Site.Auditing;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using AuditLog = Cimef.Site.Auditing.Audit;

namespace Cimef.Site.Tests.Auditing;

/// <summary>Events and audit lines older than Audit:RetentionDays are pruned in batches; the kept window is untouched.</summary>
public class RetentionTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Fact]
    public async Task Old_rows_are_pruned_in_batches_and_statistics_for_the_kept_window_do_not_change()
    {
        _ = factory.Server;
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var start = factory.Time.GetUtcNow().UtcDateTime;
        const int old = Retention.BatchSize * 2 + 17;
        await factory.WithDbAsync(async db =>
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            await db.Database.ExecuteSqlRawAsync($$"""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {{old}})
                INSERT INTO "AccessEvents" ("At", "Kind", "PatientAccessId") SELECT {0}, 'login_success', 1 FROM n
                """, new DateTime(2024, 1, 1, 8, 0, 0, DateTimeKind.Utc));
            for (var i = 0; i < 25; i++) db.AccessEvents.Add(AuditData.Event(AccessEventKinds.LoginSuccess, start.AddDays(-i), 1));
            AuditLog.Staff(db, "u", "ancien@cimef.test", start.AddDays(-800), "invoice.create", "Invoice", 1);
            AuditLog.Staff(db, "u", "recent@cimef.test", start.AddDays(-2), "invoice.create", "Invoice", 2);
            await db.SaveChangesAsync();
            await tx.CommitAsync();
            return 0;
        });
        var before = await admin.GetStringAsync("/Audit/Statistics?handler=Csv&table=daily&days=30");

        // The clock is not advanced (that would also wake the hourly job); the pass runs as the job would a day later.
        var now = factory.Time.GetUtcNow().UtcDateTime.AddDays(1);
        var (events, audits) = await factory.WithDbAsync(db => Retention.PruneAsync(db, now, 730));
        Assert.Equal(old, events);
        Assert.Equal(1, audits);

        await factory.WithDbAsync(async db =>
        {
            Assert.Equal(25, await db.AccessEvents.CountAsync());
            Assert.False(await db.AuditEntries.AnyAsync(a => a.UserName == "ancien@cimef.test"));
            Assert.True(await db.AuditEntries.AnyAsync(a => a.UserName == "recent@cimef.test"));
            Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "retention.prune"));
            return 0;
        });
        Assert.Equal(before, await admin.GetStringAsync("/Audit/Statistics?handler=Csv&table=daily&days=30"));
        Assert.Equal((0, 0), await factory.WithDbAsync(db => Retention.PruneAsync(db, now, 730)));
    }
}
