using Cimef.Site.Auditing;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Auditing;

/// <summary>New alerts are e-mailed to Alerts:Email (here through the pickup folder, no SMTP configured).</summary>
public class AlertEmailTests : IClassFixture<AlertEmailTests.Factory>
{
    public sealed class Factory : CimefFactory
    {
        public Factory() => Settings["Alerts:Email"] = "direction@cimef.test";
    }

    private readonly Factory _factory;
    public AlertEmailTests(Factory factory) => _factory = factory;

    [Fact]
    public async Task A_new_alert_is_emailed_once_to_the_alerts_address()
    {
        _ = _factory.Server;
        var monitor = _factory.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<AlertMonitor>().Single();
        await monitor.RunOnceAsync(); // baseline: nothing new yet
        var pickup = Path.Combine(_factory.DataDir, "mail-pickup");
        int Mails() => Directory.Exists(pickup) ? Directory.GetFiles(pickup, "*.eml").Length : 0;
        var before = Mails();

        await _factory.WithDbAsync(async db =>
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            await Alerts.RaiseAsync(db, AlertLevel.Critical, "report_file", "rapport 99", "Fichier manquant : Scanner", _factory.Time.GetUtcNow().UtcDateTime);
            await db.SaveChangesAsync();
            await tx.CommitAsync();
            return 0;
        });
        await monitor.RunOnceAsync();
        await monitor.RunOnceAsync();

        Assert.Equal(before + 1, Mails());
        var text = await File.ReadAllTextAsync(Directory.GetFiles(pickup, "*.eml").OrderBy(File.GetLastWriteTimeUtc).Last());
        Assert.Contains("direction@cimef.test", text);
        Assert.Contains("rapport 99", text);
    }
}
