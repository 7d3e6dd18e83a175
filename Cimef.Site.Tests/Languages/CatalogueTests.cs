using System.Text.RegularExpressions;
using Cimef.Site.Languages;

namespace Cimef.Site.Tests.Languages;

/// <summary>The three patient catalogues: the same entries, none empty, the same placeholders.</summary>
public partial class CatalogueTests
{
    [Theory]
    [InlineData(PatientLanguages.Wolof)]
    [InlineData(PatientLanguages.English)]
    public void Every_french_entry_exists_in_the_language_with_the_same_placeholders(string language)
    {
        var french = PatientText.Own(PatientLanguages.French);
        var own = PatientText.Own(language);
        Assert.NotEmpty(french);
        Assert.Equal(french.Keys.Order(StringComparer.Ordinal), own.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, text) in own)
        {
            Assert.False(string.IsNullOrWhiteSpace(text), $"{language}: '{name}' is empty");
            Assert.Equal(Placeholders(french[name]), Placeholders(text));
        }
    }

    [Theory]
    [InlineData("wo", "wo")]
    [InlineData("WO-sn", "wo")]
    [InlineData("en-GB", "en")]
    [InlineData("fr-SN", "fr")]
    [InlineData("de", null)]
    [InlineData("", null)]
    public void Language_codes_are_normalised(string value, string? expected) => Assert.Equal(expected, PatientLanguages.Normalize(value));

    private static string[] Placeholders(string s) => PlaceholderPattern().Matches(s).Select(m => m.Value).Distinct().Order(StringComparer.Ordinal).ToArray();

    [GeneratedRegex(@"\{\d+\}")]
    private static partial Regex PlaceholderPattern();
}
