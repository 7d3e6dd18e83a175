using System.Text;
using Cimef.Site.Auditing;

namespace Cimef.Site.Tests.Audit;

/// <summary>The shared CSV writer escapes separators and quotes and neutralises spreadsheet formulas.</summary>
public class CsvTests
{
    [Theory]
    [InlineData("simple", "simple")]
    [InlineData("Diop, Aminata", "\"Diop, Aminata\"")]
    [InlineData("le \"docteur\"", "\"le \"\"docteur\"\"\"")]
    [InlineData("ligne 1\nligne 2", "\"ligne 1\nligne 2\"")]
    [InlineData("ligne 1\r\nligne 2", "\"ligne 1\r\nligne 2\"")]
    [InlineData("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"")]
    [InlineData("=1+1", "'=1+1")]
    [InlineData("+221771234567", "'+221771234567")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tcmd", "'\tcmd")]
    [InlineData("\rcmd", "\"'\rcmd\"")]
    [InlineData("a=b", "a=b")]
    [InlineData("Sénégal", "Sénégal")]
    [InlineData("", "")]
    public void Text_cells_are_escaped_and_formulas_neutralised(string input, string expected) =>
        Assert.Equal(expected, Csv.Cell(input));

    [Fact]
    public void Numbers_stay_numbers_and_nulls_are_empty()
    {
        Assert.Equal("-5", Csv.Cell(-5));
        Assert.Equal("1234567", Csv.Cell(1_234_567L));
        Assert.Equal("", Csv.Cell(null));
    }

    [Fact]
    public void A_file_is_utf8_with_bom_and_crlf_lines()
    {
        var bytes = Csv.Build(["Nom", "Montant"], [["Aminata Diop, fille", 25000], ["=cmd|' /C calc'!A0", 1]]);
        Assert.Equal(Encoding.UTF8.GetPreamble(), bytes[..3]);
        var text = Encoding.UTF8.GetString(bytes[3..]);
        Assert.Equal("Nom,Montant\r\n\"Aminata Diop, fille\",25000\r\n'=cmd|' /C calc'!A0,1\r\n", text);
    }
}
