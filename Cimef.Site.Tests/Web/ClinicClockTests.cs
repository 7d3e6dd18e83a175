using Cimef.Site.Cli;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Invoicing;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Web;

/// <summary>
/// The site and the CLI read one clinic clock. Kiritimati is UTC+14: at 12:00 UTC on 31 December it is already
/// 1 January, 02:00 in the clinic, so a UTC year or day anywhere would show here.
/// </summary>
public class ClinicClockTests : IDisposable
{
    private static readonly DateTime NewYearUtc = new(2026, 12, 31, 12, 0, 0, DateTimeKind.Utc);
    private readonly CimefFactory _factory = new();

    public ClinicClockTests() => _factory.Settings["Clinic:TimeZone"] = "Pacific/Kiritimati";

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Site_and_cli_invoices_near_midnight_take_the_clinic_year_and_day()
    {
        _factory.Time.SetUtcNow(NewYearUtc);
        var front = await _factory.StaffClientAsync(Roles.Secretary);
        var patient = await front.CreatePatientAsync("Fatou Ndiaye");
        var siteNumber = (await front.CreateInvoiceAsync(patient, ("RX-GEN", 1))).GetProperty("invoice_number").GetString();
        Assert.StartsWith("FAC-2027-", siteNumber);

        // seed-demo dates its invoices 20 to 11 days back: the last one at exactly NewYearUtc.
        _factory.Time.SetUtcNow(NewYearUtc.AddDays(11));
        Assert.Equal(0, await CliRunner.RunAsync(_factory.Services, ["seed-demo"], TextWriter.Null, TextWriter.Null));
        var seeded = await _factory.WithDbAsync(db => db.Invoices.SingleAsync(i => i.CreatedAt == NewYearUtc && i.Number != siteNumber));
        Assert.StartsWith("FAC-2027-", seeded.Number);

        var admin = await _factory.StaffClientAsync(Roles.Admin);
        Assert.Contains("Créée le 01/01/2027 02:00", await admin.GetStringAsync($"/Billing/Details/{seeded.Id}"));
        // The cash desk's 1 January holds the seeded payment made 20 minutes after that invoice, 31 December none of it.
        var newYear = await admin.GetStringAsync("/Billing/Payments?date=2027-01-01");
        Assert.Contains(seeded.Number, newYear);
        Assert.DoesNotContain(seeded.Number, await admin.GetStringAsync("/Billing/Payments?date=2026-12-31"));
    }
}
