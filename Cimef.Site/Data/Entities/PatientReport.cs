namespace Cimef.Site.Data.Entities;

public enum FileIntegrity { Unchecked, Ok, Missing, Altered }

public class PatientReport
{
    public int Id { get; set; }
    public int PatientAccessId { get; set; }
    public PatientAccess PatientAccess { get; set; } = null!;
    public int InvoiceId { get; set; }
    public Invoice Invoice { get; set; } = null!;
    public string Title { get; set; } = "";
    /// <summary>Relative path under the reports folder, e.g. 2026/11/k3j….pdf (server-generated).</summary>
    public string StoredFileName { get; set; } = "";
    public string OriginalName { get; set; } = "";
    public string ContentType { get; set; } = "";
    public long Size { get; set; }
    /// <summary>Lower-case hex SHA-256 of the stored bytes.</summary>
    public string Sha256 { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime? ExpiresAt { get; set; }
    public bool IsActive { get; set; }
    public string? WithdrawalReason { get; set; }
    public DateTime? WithdrawnAt { get; set; }
    public string? WithdrawnBy { get; set; }
    public int DownloadCount { get; set; }
    public DateTime? LastDownloadAt { get; set; }
    public FileIntegrity Integrity { get; set; } = FileIntegrity.Unchecked;
    public DateTime? IntegrityCheckedAt { get; set; }
    /// <summary>Business identifier given by the system that pushed the report over FHIR (unique per system), for If-None-Exist.</summary>
    public string? IdentifierSystem { get; set; }
    public string? IdentifierValue { get; set; }
    /// <summary>Lower-case hex SHA-1 of the stored bytes (FHIR's Attachment.hash), computed on first FHIR use.</summary>
    public string? Sha1 { get; set; }
}
