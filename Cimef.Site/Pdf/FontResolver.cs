using System.Collections.Concurrent;
using PdfSharp.Fonts;

namespace Cimef.Site.Pdf;

/// <summary>
/// PDFsharp finds no font by itself on Linux: every family resolves to DejaVu Sans (regular/bold), served
/// from the resources embedded in this assembly (npm package dejavu-fonts-ttf). No system font is assumed.
/// </summary>
public sealed class FontResolver : IFontResolver
{
    public const string Family = "DejaVu Sans";
    private const string Regular = "Cimef.Fonts.DejaVuSans.ttf";
    private const string Bold = "Cimef.Fonts.DejaVuSans-Bold.ttf";
    private static readonly ConcurrentDictionary<string, byte[]> Cache = new();
    private static readonly Lock Gate = new();
    private static bool _registered;

    /// <summary>Installs the resolver once per process (PDFsharp's setting is global).</summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (_registered) return;
            if (GlobalFontSettings.FontResolver is not FontResolver) GlobalFontSettings.FontResolver = new FontResolver();
            _registered = true;
        }
    }

    public FontResolverInfo ResolveTypeface(string familyName, bool bold, bool italic) =>
        new(bold ? Bold : Regular, false, italic);

    public byte[] GetFont(string faceName) => Cache.GetOrAdd(faceName, static name =>
    {
        using var stream = typeof(FontResolver).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded font {name} is missing.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });
}
