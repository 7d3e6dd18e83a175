using Cimef.Site.Cli;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Cli;

/// <summary>The demo a new user opens shows the product at work: statistics, history and alerts are not empty.</summary>
public class DemoSeedTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Fact]
    public async Task The_demo_has_sixty_days_of_logins_and_downloads_a_share_a_wave_payment_and_an_alert()
    {
        Assert.Equal(0, await factory.WithScopeAsync(sp => DemoSeed.RunAsync(sp, TextWriter.Null, TextWriter.Null)));

        var now = factory.Time.GetUtcNow().UtcDateTime;
        await factory.WithDbAsync(async db =>
        {
            var days = await db.AccessEvents.Where(e => e.Kind == AccessEventKinds.LoginSuccess).Select(e => e.At).ToListAsync();
            Assert.True(days.Min() <= now.AddDays(-DemoSeed.ActivityDays + 1), $"first login {days.Min():O}");
            Assert.True(days.Select(d => d.Date).Distinct().Count() >= 45, "logins on most of the sixty days");
            Assert.True(await db.AccessEvents.CountAsync(e => e.Kind == AccessEventKinds.Download) >= 10);
            Assert.True(await db.AccessEvents.AnyAsync(e => e.Kind == AccessEventKinds.ShareOpen));
            Assert.Equal(1, await db.ReportShares.CountAsync());
            Assert.True(await db.Payments.AnyAsync(p => p.Method == PaymentMethod.Wave && p.Reference != null));
            Assert.True(await db.Alerts.AnyAsync(a => a.Kind == AlertKinds.LoginFailures));
            return 0;
        });

        // The admin's statistics and alerts pages render them.
        var admin = await factory.StaffClientAsync(Roles.Admin);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await admin.GetAsync("/Audit/Statistics")).StatusCode);
        Assert.Contains("échecs de connexion", await admin.GetStringAsync("/Audit/Alerts"));
    }
}
