using Cimef.Site.Access;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;

namespace Cimef.Site.Tests.Audit;

/// <summary>Rows the audit tests need, written straight through CimefDb (the features that create them are other use cases).</summary>
public static class AuditData
{
    private static int _invoiceNumber;

    public static async Task<(Patient Patient, PatientAccess Access)> PatientWithAccessAsync(CimefDb db, string name, DateTime now)
    {
        var patient = new Patient
        {
            FullName = name, SearchName = name.ToLowerInvariant(), Phone = "+22177" + Random.Shared.Next(1000000, 9999999),
            Email = "p@example.sn", CreatedAt = now, CreatedBy = "test",
        };
        var access = new PatientAccess
        {
            Patient = patient, AccessKey = CredentialGenerator.NewKey(), PasswordHash = new byte[32], ProtectedPassword = "x",
            IsActive = true, CreatedAt = now, CreatedBy = "test",
        };
        db.PatientAccesses.Add(access);
        await db.SaveChangesAsync();
        return (patient, access);
    }

    public static async Task<Invoice> InvoiceAsync(CimefDb db, Patient patient, InvoiceStatus status, int total, DateTime at)
    {
        var invoice = new Invoice
        {
            Number = $"FAC-T-{Interlocked.Increment(ref _invoiceNumber):D6}-{Guid.NewGuid():N}"[..20], PatientId = patient.Id, Status = status, Total = total,
            CreatedAt = at, CreatedBy = "test", IssuedAt = status == InvoiceStatus.Draft ? null : at,
        };
        db.Invoices.Add(invoice);
        await db.SaveChangesAsync();
        return invoice;
    }

    public static async Task<PatientReport> ReportAsync(CimefDb db, PatientAccess access, Invoice invoice, string title, DateTime at)
    {
        var report = new PatientReport
        {
            PatientAccessId = access.Id, InvoiceId = invoice.Id, Title = title, StoredFileName = $"t/{Guid.NewGuid():N}.pdf",
            OriginalName = "r.pdf", ContentType = "application/pdf", Size = 10, Sha256 = new string('0', 64),
            CreatedAt = at, CreatedBy = "test", IsActive = true,
        };
        db.PatientReports.Add(report);
        await db.SaveChangesAsync();
        return report;
    }

    public static AccessEvent Event(string kind, DateTime at, int? accessId, int? reportId = null) =>
        new() { Kind = kind, At = at, PatientAccessId = accessId, ReportId = reportId, ClientIp = "10.1.2.3", UserAgent = "Test" };

    /// <summary>Lines of a CSV response, after checking the UTF-8 BOM.</summary>
    public static async Task<string[][]> CsvAsync(HttpResponseMessage response)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF, "CSV must start with a UTF-8 BOM");
        return ParseCsv(System.Text.Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3));
    }

    /// <summary>Cells of a ';'-separated CSV, as a spreadsheet would split them (quotes honoured).</summary>
    public static string[][] ParseCsv(string text)
    {
        using var csv = CsvHelper.CsvReader.Create(new StringReader(text), new CsvHelper.CsvReaderOptions { Separator = ';', HasHeader = false });
        var rows = new List<string[]>();
        while (csv.Read()) rows.Add(csv.Current.ToArray());
        return [.. rows];
    }
}
