using System.Text;

namespace Cimef.Site.Storage;

/// <summary>
/// Report file types, decided by magic bytes only (never the client's name or content type):
/// PDF, JPEG and PNG. Empty files and files that look like HTML or carry a PDF header away from
/// offset 0 (polyglots that browsers or viewers might interpret differently) are refused.
/// </summary>
public static class FileTypes
{
    public sealed record Kind(string Extension, string ContentType, string Label);

    public static readonly Kind Pdf = new("pdf", "application/pdf", "PDF");
    public static readonly Kind Jpeg = new("jpg", "image/jpeg", "JPEG");
    public static readonly Kind Png = new("png", "image/png", "PNG");
    private static readonly Kind[] Allowed = [Pdf, Jpeg, Png];

    /// <summary>The short label of a stored content type, for the patient's list (another type by its subtype).</summary>
    public static string Label(string contentType) =>
        Array.Find(Allowed, k => k.ContentType == contentType)?.Label
        ?? (contentType.Contains('/') ? contentType[(contentType.IndexOf('/') + 1)..].ToUpperInvariant() : contentType);

    public const int HeadLength = 1024;

    public sealed record Result(Kind? Type, string? Error);

    private static readonly byte[] PdfMagic = "%PDF-"u8.ToArray();
    private static readonly byte[] JpegMagic = [0xFF, 0xD8, 0xFF];
    private static readonly byte[] PngMagic = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly string[] MarkupMarkers = ["<html", "<!doctype", "<script", "<body", "<head", "<iframe", "<svg", "<?xml", "javascript:"];

    /// <summary>Reads the start of a seekable stream, decides its type and rewinds it.</summary>
    public static async Task<Result> CheckAsync(Stream content, CancellationToken ct = default)
    {
        var head = new byte[HeadLength];
        var read = 0;
        while (read < head.Length)
        {
            var n = await content.ReadAsync(head.AsMemory(read), ct);
            if (n == 0) break;
            read += n;
        }
        content.Position = 0;
        return Check(head.AsSpan(0, read));
    }

    public static Result Check(ReadOnlySpan<byte> head)
    {
        if (head.IsEmpty) return new(null, "Le fichier est vide.");
        var text = Encoding.Latin1.GetString(head).ToLowerInvariant();
        if (MarkupMarkers.Any(m => text.Contains(m, StringComparison.Ordinal)))
            return new(null, "Fichier refusé : son contenu ressemble à une page web (HTML/script), pas à un PDF, JPEG ou PNG.");
        if (head.StartsWith(PdfMagic)) return new(Pdf, null);
        if (head.StartsWith(PngMagic)) return new(Png, null);
        if (head.StartsWith(JpegMagic)) return new(Jpeg, null);
        if (text.Contains("%pdf-", StringComparison.Ordinal))
            return new(null, "Fichier refusé : l'en-tête PDF n'est pas au début du fichier (fichier suspect).");
        return new(null, "Type de fichier non autorisé : seuls les PDF, JPEG et PNG sont acceptés.");
    }

    /// <summary>The client's file name made safe for display and storage in the database (never used on disk).</summary>
    public static string SafeOriginalName(string? name)
    {
        var n = (name ?? "").Replace('\\', '/');
        n = n[(n.LastIndexOf('/') + 1)..];
        var sb = new StringBuilder(n.Length);
        foreach (var c in n)
            if (!char.IsControl(c) && c is not '"' and not '<' and not '>') sb.Append(c);
        var clean = sb.ToString().Trim().TrimStart('.');
        if (clean.Length > 200) clean = clean[^200..];
        return clean.Length == 0 ? "rapport" : clean;
    }
}
