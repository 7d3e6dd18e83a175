using Cimef.Site.Data.Entities;

namespace Cimef.Site.Tests.Auditing;

/// <summary>Access events and CSV reading for the audit tests (patients, invoices and reports come from factory.Data).</summary>
public static class AuditData
{
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
