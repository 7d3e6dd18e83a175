using System.Globalization;
using System.Resources;

namespace Cimef.Site.Languages;

/// <summary>
/// Every word the patient side shows, one catalogue (resource file) per language: <c>PatientText.resx</c> (French, the
/// default and the fallback), <c>PatientText.wo.resx</c> (Wolof, official Latin orthography) and
/// <c>PatientText.en.resx</c> (English). Entries are looked up in the request's UI culture
/// (<see cref="PatientLanguages"/>); a name missing from a language falls back to French.
/// </summary>
public static class PatientText
{
    private static readonly ResourceManager Catalogue = new("Cimef.Site.Languages.PatientText", typeof(PatientText).Assembly);

    /// <summary>The entry in the current request's language.</summary>
    public static string Get(string name) => Get(name, CultureInfo.CurrentUICulture);

    public static string Get(string name, CultureInfo culture)
    {
        // ResourceManager takes a process-wide lock on every lookup (measured: the dashboard's ~40 lookups contended on
        // it under load); a catalogue never changes while the site runs, so each (culture, name) is looked up once.
        var key = (culture.Name, name);
        if (Looked.TryGetValue(key, out var text)) return text;
        text = Catalogue.GetString(name, culture) ?? throw new KeyNotFoundException($"PatientText has no entry '{name}'.");
        Looked.TryAdd(key, text);
        return text;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Culture, string Name), string> Looked = new();

    /// <summary>The entry with its {0}, {1}… filled in (numbers already formatted by the caller).</summary>
    public static string Format(string name, params object?[] args) => Format(CultureInfo.CurrentUICulture, name, args);

    /// <summary>The entry in a given language (a patient's SMS and e-mail), {0}… filled in.</summary>
    public static string Format(CultureInfo culture, string name, params object?[] args) =>
        string.Format(CultureInfo.InvariantCulture, Get(name, culture), args);

    /// <summary>A file size in the request's language's units (« 1,2 Mo » in French and Wolof, « 1,2 MB » in English); fr-SN digits.</summary>
    public static string Size(long bytes) => bytes switch
    {
        < 1024 => Format("size_bytes", bytes.ToString(Web.Fr.Culture)),
        < 1024 * 1024 => Format("size_kb", (bytes / 1024.0).ToString("0.#", Web.Fr.Culture)),
        < 1024L * 1024 * 1024 => Format("size_mb", (bytes / (1024.0 * 1024)).ToString("0.#", Web.Fr.Culture)),
        _ => Format("size_gb", (bytes / (1024.0 * 1024 * 1024)).ToString("0.#", Web.Fr.Culture)),
    };

    /// <summary>The entries a language defines itself (no fallback), for the completeness test and the README's table.</summary>
    public static IReadOnlyDictionary<string, string> Own(string language) =>
        Catalogue.GetResourceSet(language == PatientLanguages.French ? CultureInfo.InvariantCulture : PatientLanguages.Culture(language),
                createIfNotExists: true, tryParents: false)?
            .Cast<System.Collections.DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (string)e.Value!) ?? [];
}
