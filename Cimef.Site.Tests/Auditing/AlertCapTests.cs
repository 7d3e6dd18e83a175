using Cimef.Site.Auditing;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Auditing;

/// <summary>Alerts:MaxPerRulePerHour: a thousand random keys under attack make a few e-mails and one digest, not a thousand.</summary>
public class AlertCapTests : IClassFixture<AlertCapTests.Factory>
{
    public sealed class Factory : CimefFactory
    {
        public Factory() => Settings["Alerts:Email"] = "direction@cimef.test";
    }

    private readonly Factory _factory;
    public AlertCapTests(Factory factory) => _factory = factory;

    [Fact]
    public async Task Past_ten_alerts_of_one_rule_in_an_hour_the_rest_fold_into_one_digest_line()
    {
        _ = _factory.Server;
        var monitor = _factory.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<AlertMonitor>().Single();
        await monitor.RunOnceAsync();
        var pickup = Path.Combine(_factory.DataDir, "mail-pickup");
        int Mails() => Directory.Exists(pickup) ? Directory.GetFiles(pickup, "*.eml").Length : 0;
        var before = Mails();

        var now = _factory.Time.GetUtcNow().UtcDateTime;
        await _factory.WithDbAsync(async db =>
        {
            for (var k = 0; k < 47; k++)
                for (var i = 0; i < 5; i++)
                    db.LoginFailures.Add(new LoginFailure { Key = $"k{k:D32}W{k:D3}", ClientIp = $"10.9.{k}.1", At = now.AddSeconds(-10 * i) });
            return await db.SaveChangesAsync();
        });
        await monitor.RunOnceAsync();
        await monitor.RunOnceAsync(); // the same evidence is not counted twice

        var alerts = await _factory.WithDbAsync(db => db.Alerts.Where(a => a.Kind == "login_failures").ToListAsync());
        Assert.Equal(10, alerts.Count(a => a.AcknowledgedAt == null && a.Subject != Alerts.DigestSubject));
        var digest = Assert.Single(alerts, a => a.Subject == Alerts.DigestSubject);
        Assert.StartsWith("et 37 autres", digest.Detail);
        Assert.Equal(before + 11, Mails());
        var digestMail = await File.ReadAllTextAsync(Directory.GetFiles(pickup, "*.eml").OrderBy(File.GetLastWriteTimeUtc).Last());
        Assert.Contains("et 37 autres", digestMail);

        // The next hour starts a fresh allowance.
        _factory.Time.Advance(TimeSpan.FromMinutes(61));
        var later = _factory.Time.GetUtcNow().UtcDateTime;
        await _factory.WithDbAsync(async db =>
        {
            for (var i = 0; i < 5; i++) db.LoginFailures.Add(new LoginFailure { Key = "k-next-hour-KEYZ", ClientIp = "10.8.0.1", At = later.AddSeconds(-i) });
            return await db.SaveChangesAsync();
        });
        await monitor.RunOnceAsync();
        Assert.Equal(before + 12, Mails());
    }
}
