using System.Net;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using static Cimef.Site.Tests.Reports.ReportTestData;

namespace Cimef.Site.Tests.Reports;

/// <summary>Simulates a crash between the file write and the database commit of a report row.</summary>
public sealed class FailingCommitFactory : CimefFactory
{
    // Both engines' contexts: PostgreSQL's (CIMEF_TEST_PROVIDER=Postgres) has options of its own.
    public FailingCommitFactory() => ConfigureTestServices = s =>
    {
        s.ConfigureDbContext<CimefDb>(o => o.AddInterceptors(new FailReportInserts()));
        s.ConfigureDbContext<PostgresCimefDb>(o => o.AddInterceptors(new FailReportInserts()));
    };

    private sealed class FailReportInserts : SaveChangesInterceptor
    {
        public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken ct = default)
        {
            if (eventData.Context!.ChangeTracker.Entries<PatientReport>().Any(e => e.State == EntityState.Added))
                throw new IOException("Simulated crash between file write and commit.");
            return base.SavingChangesAsync(eventData, result, ct);
        }
    }
}

public class CrashSafetyTests(FailingCommitFactory factory) : IClassFixture<FailingCommitFactory>
{
    [Fact]
    public async Task A_failure_between_file_write_and_commit_leaves_no_row_and_no_visible_file()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var client = factory.NewClient();
        client.UseBearer(await factory.Data.ApiTokenAsync(Roles.Doctor));

        var response = await client.PostAsync("/api/reports/", Multipart(new("invoice_number", s.InvoiceNumber), new("title", "IRM"), new("file", FileName: "irm.pdf", Bytes: PdfBytes)));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.DoesNotContain("Simulated", await response.Content.ReadAsStringAsync());
        Assert.False(await factory.WithDbAsync(db => db.PatientReports.AnyAsync()));
        Assert.False(await factory.WithDbAsync(db => db.OutboxMessages.AnyAsync(m => m.Kind == OutboxKind.ReportAvailable)));
        Assert.Empty(VisibleReportFiles(factory));
    }
}
