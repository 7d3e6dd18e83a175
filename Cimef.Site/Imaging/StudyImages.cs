using Cimef.Site.Storage;

namespace Cimef.Site.Imaging;

/// <summary>
/// The images a phone gets: JPEGs rendered by Orthanc, no wider than <see cref="MaxWidth"/> px and at most
/// <see cref="MaxBytes"/>, a thumbnail of <see cref="ThumbWidth"/> px per series. Orthanc renders an image at its own
/// size first; when that is too wide or too heavy it renders it again scaled to the width, at a lower JPEG quality
/// until it fits. The result is kept in the report store under the study's name, so each image is rendered once and
/// a cached name also proves the image belongs to that study.
/// </summary>
public sealed class StudyImages(OrthancClient orthanc, ReportStore store)
{
    public const int MaxWidth = 720;
    public const int ThumbWidth = 160;
    public const int MaxBytes = 80 * 1024;
    private static readonly int[] Qualities = [80, 65, 50, 35, 20];

    public enum Size { Thumbnail, Full }

    private const string Prefix = "imaging/";

    public static string StoredName(string studyOrthancId, string instanceId, Size size) =>
        $"{Prefix}{studyOrthancId}/{instanceId}-{(size == Size.Thumbnail ? "t" : "f")}.jpg";

    /// <summary>A rendered image kept in the report store (no report row points to it; the check does not call it an orphan).</summary>
    public static bool IsCached(string storedName) => storedName.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The JPEG, or null when the instance is not one of the study's.</summary>
    public async Task<byte[]?> JpegAsync(ImagingStudy study, string instanceId, Size size, CancellationToken ct)
    {
        if (!OrthancClient.IsId(instanceId)) return null;
        var name = StoredName(study.OrthancId, instanceId, size);
        if (await store.OpenReadAsync(name, ct) is { } cached)
        {
            await using var content = cached.Content;
            var buffer = new MemoryStream((int)cached.Length);
            await content.CopyToAsync(buffer, ct);
            return buffer.ToArray();
        }
        if (await orthanc.StudyOfInstanceAsync(instanceId, ct) != study.OrthancId) return null;
        var jpeg = await RenderAsync(instanceId, size == Size.Thumbnail ? ThumbWidth : MaxWidth, ct);
        if (jpeg is null) return null;
        await store.PutAsync(name, new MemoryStream(jpeg, writable: false), ct);
        return jpeg;
    }

    private async Task<byte[]?> RenderAsync(string instanceId, int width, CancellationToken ct)
    {
        var jpeg = await orthanc.RenderAsync(instanceId, null, Qualities[0], ct);
        if (jpeg is null) return null;
        var native = Jpeg.Size(jpeg)!.Value.Width;
        if (native <= width && jpeg.Length <= MaxBytes) return jpeg;
        foreach (var quality in Qualities)
        {
            jpeg = await orthanc.RenderAsync(instanceId, Math.Min(width, native), quality, ct);
            if (jpeg is null) return null;
            if (jpeg.Length <= MaxBytes) return jpeg;
        }
        throw new OrthancClient.UnavailableException($"Image {instanceId} stays above {MaxBytes} bytes at the lowest quality.");
    }
}
