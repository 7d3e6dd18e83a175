using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Mvc;

namespace Cimef.Site.Auditing;

/// <summary>
/// The one CSV writer for every export: RFC 4180 (comma separator, fields with a comma, quote or line break
/// quoted, quotes doubled), UTF-8 with BOM so Excel shows French accents, and text cells that a spreadsheet
/// would run as a formula (starting with =, +, -, @, tab or CR) neutralised with a leading single quote.
/// </summary>
public static class Csv
{
    public static string Cell(object? value) => value switch
    {
        null => "",
        int or long or short => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        double d => d.ToString("0.##", CultureInfo.InvariantCulture),
        _ => Text(value.ToString()),
    };

    private static string Text(string? value)
    {
        var v = value ?? "";
        if (v.Length > 0 && v[0] is '=' or '+' or '-' or '@' or '\t' or '\r') v = "'" + v;
        return v.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + v.Replace("\"", "\"\"") + "\"" : v;
    }

    public static byte[] Build(IEnumerable<string> header, IEnumerable<IEnumerable<object?>> rows)
    {
        var sb = new StringBuilder();
        sb.AppendJoin(',', header.Select(Cell)).Append("\r\n");
        foreach (var row in rows) sb.AppendJoin(',', row.Select(Cell)).Append("\r\n");
        return [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(sb.ToString())];
    }

    /// <summary>An attachment download (Content-Disposition: attachment; filename=…).</summary>
    public static FileContentResult File(byte[] content, string fileName) =>
        new(content, "text/csv; charset=utf-8") { FileDownloadName = fileName };
}
