using System.Globalization;
using System.Text;
using Cimef.Site.Web;
using CsvHelper;
using Microsoft.AspNetCore.Mvc;

namespace Cimef.Site.Auditing;

/// <summary>
/// The one CSV writer for every export, shaped for French Excel (the clinic's spreadsheet): ';' separator and a
/// UTF-8 BOM (what Excel fr-FR opens directly, accents included), every cell containing ';', ',', '"', CR or LF
/// quoted, and every cell starting with =, +, -, @, tab or CR prefixed with a single quote so it opens as text,
/// never as a formula (CsvHelper's injection escaping). Decimals use a comma, as French Excel reads numbers.
/// </summary>
public static class Csv
{
    private static readonly CsvWriterOptions Options = new()
    {
        Separator = ';',
        WriteByteOrderMark = true,
        Injection = CsvInjection.Escape,
        InjectionEscape = '\'',
        InjectionCharacters = "=+-@\t\r",
        // A comma is not our separator, but a file re-saved or read by a tool expecting commas must not split a cell.
        ShouldQuote = (field, _, _, _) => field.Contains(','),
    };

    public static byte[] Build(IEnumerable<string> header, IEnumerable<IEnumerable<object?>> rows)
    {
        using var buffer = new MemoryStream();
        using (var csv = CsvWriter.Create(buffer, Options, leaveOpen: true))
        {
            csv.WriteRecord([.. header]);
            foreach (var row in rows)
            {
                foreach (var value in row) Write(csv, value);
                csv.EndRecord();
            }
        }
        return buffer.ToArray();
    }

    /// <summary>Numbers are written as numbers (a negative amount stays a number); everything else as text.</summary>
    private static void Write(CsvWriter csv, object? value)
    {
        switch (value)
        {
            case null: csv.WriteField(""); break;
            case int i: csv.WriteField(i, ""); break;
            case long l: csv.WriteField(l, ""); break;
            case double d: csv.WriteField(d, "0.##", Fr.Culture); break;
            case decimal m: csv.WriteField(m, "0.##", Fr.Culture); break;
            default: csv.WriteField(value.ToString()); break;
        }
    }

    /// <summary>An attachment download (Content-Disposition: attachment; filename=…).</summary>
    public static FileContentResult File(byte[] content, string fileName) =>
        new(content, "text/csv; charset=utf-8") { FileDownloadName = fileName };
}
