using System.ComponentModel.DataAnnotations;

namespace Cimef.Site.Imaging;

/// <summary>
/// <c>Imaging:Orthanc:Url/Username/Password</c>: the clinic's PACS, read over its REST API. Without a URL, imaging is
/// off: nothing is registered, shown or polled. <c>Imaging:ReleaseWithoutReport</c>: a linked study is visible at
/// once instead of with the invoice's published report.
/// </summary>
public sealed class ImagingOptions : IValidatableObject
{
    public const string Section = "Imaging";

    public OrthancOptions Orthanc { get; set; } = new();
    public bool ReleaseWithoutReport { get; set; }
    /// <summary>Each call to the PACS gives up after this long (the patient's page then says the images are unavailable).</summary>
    [Range(1, 5)] public int TimeoutSeconds { get; set; } = 5;
    /// <summary>Images per page (?n=2 for the second) on the patient's images page (a huge study pages).</summary>
    [Range(1, 200)] public int ImagesPerPage { get; set; } = 12;

    public bool Enabled => !string.IsNullOrWhiteSpace(Orthanc.Url);

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        if (Enabled && !Uri.TryCreate(Orthanc.Url, UriKind.Absolute, out _))
            yield return new ValidationResult("Imaging:Orthanc:Url doit être une adresse absolue (http://pacs:8042/).");
    }
}

public sealed class OrthancOptions
{
    public string? Url { get; set; }
    public string? Username { get; set; }
    public string? Password { get; set; }
}
