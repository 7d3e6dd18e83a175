using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Cimef.Site.Tests.Reports.ReportTestData;

namespace Cimef.Site.Tests.Reports;

public sealed class IntegrityWorkerFactory : CimefFactory
{
    public IntegrityWorkerFactory() => Settings["Reports:IntegrityWorkerEnabled"] = "true";
}

public class IntegrityWorkerTests(IntegrityWorkerFactory factory) : IClassFixture<IntegrityWorkerFactory>
{
    [Fact]
    public async Task The_daily_check_catches_a_deleted_and_an_altered_file_and_raises_alerts()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var intact = (await UploadAsync(factory, s, PdfBytes, title: "Intact")).Report!;
        var deleted = (await UploadAsync(factory, s, PdfBytes, title: "Supprimé")).Report!;
        var altered = (await UploadAsync(factory, s, Png, title: "Modifié", name: "x.png")).Report!;
        File.Delete(Path.Combine(factory.DataDir, "reports", deleted.StoredFileName));
        await File.AppendAllTextAsync(Path.Combine(factory.DataDir, "reports", altered.StoredFileName), "tampered");
        var worker = factory.Services.GetServices<IHostedService>().OfType<IntegrityWorker>().Single();

        // The first pass may already have run at start: advance a day until a pass has seen both problems.
        Dictionary<int, FileIntegrity> states = [];
        for (var day = 0; day < 3; day++)
        {
            var next = worker.NextPass;
            factory.Time.Advance(TimeSpan.FromHours(24));
            await next.WaitAsync(TimeSpan.FromSeconds(30));
            states = await factory.WithDbAsync(db => db.PatientReports.ToDictionaryAsync(r => r.Id, r => r.Integrity));
            if (states[deleted.Id] == FileIntegrity.Missing && states[altered.Id] == FileIntegrity.Altered) break;
        }

        Assert.Equal(FileIntegrity.Ok, states[intact.Id]);
        Assert.Equal(FileIntegrity.Missing, states[deleted.Id]);
        Assert.Equal(FileIntegrity.Altered, states[altered.Id]);
        var alerts = await factory.WithDbAsync(db => db.Alerts.Where(a => a.Kind == "report_file").Select(a => a.Subject).ToListAsync());
        Assert.Contains($"rapport {deleted.Id}", alerts);
        Assert.Contains($"rapport {altered.Id}", alerts);
        Assert.DoesNotContain($"rapport {intact.Id}", alerts);
    }
}
