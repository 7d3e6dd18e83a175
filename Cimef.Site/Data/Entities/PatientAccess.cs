namespace Cimef.Site.Data.Entities;

/// <summary>The patient's single, permanent portal access (one per patient).</summary>
public class PatientAccess
{
    public int Id { get; set; }
    public int PatientId { get; set; }
    public Patient Patient { get; set; } = null!;
    /// <summary>12 characters A-Z0-9 (without O/0/I/1/L), unique; the lookup identifier.</summary>
    public string AccessKey { get; set; } = "";
    /// <summary>HMAC-SHA256 of the password with the key-ring secret (never the password).</summary>
    public byte[] PasswordHash { get; set; } = [];
    /// <summary>Data Protection-encrypted copy of the password, for re-printing only.</summary>
    public string ProtectedPassword { get; set; } = "";
    public bool IsActive { get; set; } = true;
    public int AccessCount { get; set; }
    public DateTime? LastAccess { get; set; }
    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime? RegeneratedAt { get; set; }
    public string? RegeneratedBy { get; set; }
    public DateTime? DeactivatedAt { get; set; }
    public string? DeactivatedBy { get; set; }

    public List<PatientReport> Reports { get; set; } = [];
}
