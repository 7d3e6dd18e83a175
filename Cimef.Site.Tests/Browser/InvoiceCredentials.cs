using UglyToad.PdfPig;

namespace Cimef.Site.Tests.Browser;

/// <summary>Reads the access box of an invoice PDF the way a person does: the words after "Clé d'accès :" and "Mot de passe :".</summary>
public static class InvoiceCredentials
{
    public static (string Key, string Password) Read(byte[] pdf)
    {
        using var document = PdfDocument.Open(pdf);
        var words = document.GetPages().SelectMany(p => p.GetWords()).Select(w => w.Text).ToList();
        return (After(words, "d'accès", ":"), After(words, "passe", ":"));
    }

    private static string After(List<string> words, string label, string colon)
    {
        for (var i = 0; i + 2 < words.Count; i++)
            if (words[i] == label && words[i + 1] == colon) return words[i + 2];
        throw new InvalidOperationException($"\"{label} {colon}\" not found in the invoice PDF: {string.Join(" ", words)}");
    }
}
