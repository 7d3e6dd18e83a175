using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Auditing;

/// <summary>The statistics dashboard over a generated data set agrees with counts made independently here.</summary>
public class StatisticsTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private sealed record Generated(List<AccessEvent> Events, List<PatientReport> Reports, Dictionary<int, string> Names, List<Payment> Payments, List<Invoice> Invoices);

    private static Generated? _data;
    private static readonly SemaphoreSlim Gate = new(1, 1);

    private async Task<Generated> DataAsync()
    {
        await Gate.WaitAsync();
        try
        {
            return _data ??= await factory.WithDbAsync(async db =>
            {
                var now = factory.Time.GetUtcNow().UtcDateTime;
                var rnd = new Random(2026);
                var events = new List<AccessEvent>();
                var reports = new List<PatientReport>();
                var invoices = new List<Invoice>();
                var payments = new List<Payment>();
                var names = new Dictionary<int, string>();
                for (var i = 0; i < 15; i++)
                {
                    var seeded = await factory.Data.PatientAsync($"Patient Stat {i:D2}", i % 3 == 0 ? InvoiceStatus.Paid : InvoiceStatus.Sent, total: 10_000 + i * 1000,
                        at: now.AddDays(-rnd.Next(0, 120)).AddMinutes(-rnd.Next(0, 600)));
                    var access = await db.PatientAccesses.SingleAsync(a => a.Id == seeded.AccessId);
                    names[access.Id] = seeded.FullName;
                    if (i % 5 == 4) access.IsActive = false;
                    var invoice = await db.Invoices.SingleAsync(x => x.Id == seeded.InvoiceId);
                    invoices.Add(invoice);
                    var draft = await factory.Data.InvoiceAsync(seeded, InvoiceStatus.Draft, 5000, now.AddDays(-1));
                    invoices.Add(await db.Invoices.SingleAsync(x => x.Id == draft.InvoiceId));
                    for (var r = 0; r < 1 + i % 3; r++)
                    {
                        var id = await factory.Data.ReportAsync(seeded, $"Rapport {i}-{r}", createdAt: now.AddDays(-rnd.Next(0, 100)).AddHours(-rnd.Next(0, 20)));
                        reports.Add(await db.PatientReports.SingleAsync(x => x.Id == id));
                    }
                    var logins = i == 0 ? 0 : rnd.Next(1, 16);
                    for (var l = 0; l < logins; l++)
                        events.Add(AuditData.Event(AccessEventKinds.LoginSuccess, now.AddMinutes(-rnd.Next(0, 120 * 24 * 60)), access.Id));
                    foreach (var report in reports.Where(x => x.PatientAccessId == access.Id))
                        for (var d = rnd.Next(0, 6); d > 0; d--)
                            events.Add(AuditData.Event(AccessEventKinds.Download, report.CreatedAt.AddMinutes(rnd.Next(1, 60 * 24 * 10)) is var t && t < now ? t : now.AddMinutes(-1), access.Id, report.Id));
                    events.Add(AuditData.Event(AccessEventKinds.LoginFailure, now.AddDays(-1), access.Id));
                    events.Add(AuditData.Event(AccessEventKinds.ReportList, now.AddDays(-2), access.Id));
                    foreach (var method in new[] { PaymentMethod.Cash, PaymentMethod.Wave, PaymentMethod.OrangeMoney })
                        if (rnd.Next(2) == 0)
                        {
                            var p = new Payment { InvoiceId = invoice.Id, Amount = 1000 + rnd.Next(0, 9000), Method = method, At = now.AddDays(-rnd.Next(0, 100)), ReceivedBy = "test" };
                            if (rnd.Next(6) == 0) p.ReversedAt = now;
                            payments.Add(p);
                        }
                }
                db.AccessEvents.AddRange(events);
                db.Payments.AddRange(payments);
                await db.SaveChangesAsync();
                return new Generated(events, reports, names, payments, invoices);
            });
        }
        finally
        {
            Gate.Release();
        }
    }

    private DateTime From(int days) => factory.Time.GetUtcNow().UtcDateTime.Date.AddDays(-(days - 1));

    private async Task<string[][]> CsvAsync(HttpClient admin, string table, int days)
    {
        var response = await admin.GetAsync($"/Audit/Statistics?handler=Csv&table={table}&days={days}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.StartsWith("text/csv", response.Content.Headers.ContentType?.MediaType);
        return await AuditData.CsvAsync(response);
    }

    [Theory]
    [InlineData(30)]
    [InlineData(90)]
    public async Task Daily_logins_and_downloads_match_the_generated_events(int days)
    {
        var data = await DataAsync();
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var from = From(days);
        var rows = await CsvAsync(admin, "daily", days);
        Assert.Equal(["Jour", "Connexions", "Téléchargements"], rows[0]);
        Assert.Equal(days, rows.Length - 1);
        foreach (var row in rows.Skip(1))
        {
            var day = DateTime.Parse(row[0], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(data.Events.Count(e => e.Kind == AccessEventKinds.LoginSuccess && e.At.Date == day), long.Parse(row[1]));
            Assert.Equal(data.Events.Count(e => e.Kind == AccessEventKinds.Download && e.At.Date == day), long.Parse(row[2]));
        }
        var expectedLogins = data.Events.Count(e => e.Kind == AccessEventKinds.LoginSuccess && e.At >= from);
        Assert.True(expectedLogins > 0);
        Assert.Equal(expectedLogins, rows.Skip(1).Sum(r => long.Parse(r[1])));
    }

    [Theory]
    [InlineData(30)]
    [InlineData(90)]
    public async Task Frequency_top_lists_and_released_reports_match(int days)
    {
        var data = await DataAsync();
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var from = From(days);
        var perPatient = data.Events.Where(e => e.Kind == AccessEventKinds.LoginSuccess && e.At >= from)
            .GroupBy(e => e.PatientAccessId).Select(g => g.Count()).ToList();
        var expectedBuckets = new long[] { perPatient.Count(n => n == 1), perPatient.Count(n => n is >= 2 and <= 5), perPatient.Count(n => n is >= 6 and <= 10), perPatient.Count(n => n > 10) };
        var frequency = await CsvAsync(admin, "frequency", days);
        Assert.Equal(expectedBuckets, frequency.Skip(1).Select(r => long.Parse(r[1])).ToArray());

        var downloads = data.Events.Where(e => e.Kind == AccessEventKinds.Download && e.At >= from).ToList();
        var reports = await CsvAsync(admin, "reports", days);
        var expectedReports = downloads.GroupBy(e => e.ReportId!.Value).ToDictionary(g => (long)g.Key, g => (long)g.Count());
        Assert.Equal(expectedReports, reports.Skip(1).ToDictionary(r => long.Parse(r[0]), r => long.Parse(r[3])));
        var patients = await CsvAsync(admin, "patients", days);
        var expectedPatients = downloads.GroupBy(e => e.PatientAccessId!.Value).ToDictionary(g => data.Names[g.Key], g => (long)g.Count());
        Assert.Equal(expectedPatients, patients.Skip(1).ToDictionary(r => r[1], r => long.Parse(r[2])));

        var released = data.Reports.Where(r => r.CreatedAt >= from).ToList();
        var releasedDownloaded = released.Count(r => downloads.Any(d => d.ReportId == r.Id));
        var releasedCsv = await CsvAsync(admin, "released", days);
        Assert.Equal(released.Count, long.Parse(releasedCsv[1][1]));
        Assert.Equal(releasedDownloaded, long.Parse(releasedCsv[2][1]));

        var summary = await CsvAsync(admin, "summary", days);
        Assert.Equal(12, long.Parse(summary[1][1])); // 15 accesses, every fifth deactivated
        Assert.Equal(15, long.Parse(summary[2][1]));
        Assert.Equal(perPatient.Count, long.Parse(summary[3][1]));
    }

    [Fact]
    public async Task Invoices_and_payments_per_day_and_per_method_match()
    {
        var data = await DataAsync();
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var from = From(90);
        var counted = data.Payments.Where(p => p.ReversedAt is null && p.At >= from).ToList();
        var methods = await CsvAsync(admin, "methods", 90);
        var expected = counted.GroupBy(p => PaymentMethods.French(p.Method)).ToDictionary(g => g.Key, g => (g.LongCount(), (long)g.Sum(p => p.Amount)));
        Assert.Equal(expected, methods.Skip(1).ToDictionary(r => r[0], r => (long.Parse(r[1]), long.Parse(r[2]))));

        var billing = await CsvAsync(admin, "billing", 90);
        var issued = data.Invoices.Where(i => i.Status != InvoiceStatus.Draft && i.IssuedAt >= from).ToList();
        Assert.Equal(issued.Count, billing.Skip(1).Sum(r => long.Parse(r[1])));
        Assert.Equal(issued.Sum(i => (long)i.Total), billing.Skip(1).Sum(r => long.Parse(r[2])));
        Assert.Equal(counted.Count, billing.Skip(1).Sum(r => long.Parse(r[3])));
        Assert.Equal(counted.Sum(p => (long)p.Amount), billing.Skip(1).Sum(r => long.Parse(r[4])));
    }

    [Fact]
    public async Task The_page_draws_svg_charts_with_tables_and_csv_links_and_no_inline_style()
    {
        var data = await DataAsync();
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var response = await admin.GetAsync("/Audit/Statistics?days=30");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<svg class=\"chart\" viewBox=", html);
        Assert.DoesNotContain("style=", html);
        Assert.DoesNotContain("<script>", html);
        foreach (var t in new[] { "daily", "frequency", "released", "billing", "summary" })
            Assert.Contains($"/Audit/Statistics?handler=Csv&amp;table={t}&amp;days=30", html);
        foreach (var id in new[] { "t-daily", "t-frequency", "t-released", "t-billing" })
            Assert.Contains($"<table id=\"{id}\"", html);
        // The chart's bar for "today" carries the same number as the table.
        var today = factory.Time.GetUtcNow().UtcDateTime;
        var logins = data.Events.Count(e => e.Kind == AccessEventKinds.LoginSuccess && e.At.Date == today.Date);
        Assert.Contains($"{today:dd/MM} — Connexions : {logins}</title>", html);
        Assert.Contains($"<tr><th scope=\"row\">{today:yyyy-MM-dd}</th><td class=\"num\">{logins}</td>", html);
    }

    [Theory]
    [InlineData(Roles.Secretary)]
    [InlineData(Roles.Doctor)]
    [InlineData(Roles.Accountant)]
    public async Task Only_admins_see_statistics(string role)
    {
        var client = await factory.StaffClientAsync(role);
        var response = await client.GetAsync("/Audit/Statistics?handler=Csv&table=daily");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/Denied", response.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task An_unknown_csv_table_is_a_404_and_an_unknown_period_falls_back_to_30_days()
    {
        var admin = await factory.StaffClientAsync(Roles.Admin);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/Audit/Statistics?handler=Csv&table=passwords")).StatusCode);
        var rows = await CsvAsync(admin, "daily", 12345);
        Assert.Equal(31, rows.Length);
    }
}
