using Cimef.Site.Data.Entities;

namespace Cimef.Site.Imaging;

/// <summary>How a study came to its patient: its AccessionNumber was an invoice number, or staff linked it by hand.</summary>
public enum StudyLinkSource { Auto, Manual }

/// <summary>
/// A study the PACS (Orthanc) holds, as the portal knows it: its identifiers, what the patient is shown (date, modality,
/// description, counts, the archive's size) and whom it belongs to. Unlinked while <see cref="PatientId"/> is null (staff
/// list them). The DICOM stays in Orthanc; the portal keeps only the rendered JPEGs and the ZIP it served, in the
/// report store. Whether the patient sees it is not stored here: it follows from the invoice's published reports
/// (<see cref="StudyRelease"/>).
/// </summary>
public class ImagingStudy
{
    public int Id { get; set; }
    /// <summary>Orthanc's own study id (a hash of the StudyInstanceUID), unique.</summary>
    public string OrthancId { get; set; } = "";
    public string StudyInstanceUid { get; set; } = "";
    public string? AccessionNumber { get; set; }
    /// <summary>The name the modality wrote (DICOM form, e.g. DIOP^Awa): staff match unlinked studies by it.</summary>
    public string? DicomPatientName { get; set; }
    public DateOnly? StudyDate { get; set; }
    public string Modality { get; set; } = "";
    public string Description { get; set; } = "";
    public int SeriesCount { get; set; }
    public int InstanceCount { get; set; }
    /// <summary>The ZIP's exact size once it is in the report store; until then Orthanc's size of the DICOM files.</summary>
    public long ArchiveBytes { get; set; }
    /// <summary>The ZIP's stored name in the report store, once a first download has put it there.</summary>
    public string? ArchiveFile { get; set; }
    public DateTime ReceivedAt { get; set; }

    public int? PatientId { get; set; }
    public Patient? Patient { get; set; }
    /// <summary>The invoice whose published report releases the study (null: linked by hand without an invoice).</summary>
    public int? InvoiceId { get; set; }
    public Invoice? Invoice { get; set; }
    public StudyLinkSource? LinkSource { get; set; }
    public DateTime? LinkedAt { get; set; }
    public string? LinkedBy { get; set; }

    /// <summary>How many times the patient (or a shared doctor) opened the images, and downloaded the whole study.</summary>
    public int ViewCount { get; set; }
    public int ArchiveDownloadCount { get; set; }
}
