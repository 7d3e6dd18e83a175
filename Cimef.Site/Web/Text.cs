using System.Globalization;
using System.Text;

namespace Cimef.Site.Web;

public static class Text
{
    /// <summary>Lower-case, accent-free, single-spaced form used for name search ("Mariama Cissé" → "mariama cisse").</summary>
    public static string SearchForm(string? s)
    {
        if (string.IsNullOrWhiteSpace(s)) return "";
        var decomposed = s.Trim().Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(decomposed.Length);
        var lastSpace = false;
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark) continue;
            if (char.IsWhiteSpace(c))
            {
                if (!lastSpace) sb.Append(' ');
                lastSpace = true;
                continue;
            }
            sb.Append(char.ToLowerInvariant(c));
            lastSpace = false;
        }
        return sb.ToString();
    }
}
