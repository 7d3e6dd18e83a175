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
    /// <summary>Why it was closed: see <see cref="DeactivationReasons"/>; "compromised" is not reopened by an invoice.</summary>
    public string? DeactivationReason { get; set; }

    public List<PatientReport> Reports { get; set; } = [];
}

public static class DeactivationReasons
{
    public const string PatientRequest = "patient_request";
    public const string Compromised = "compromised";
    public const string Other = "other";

    public static readonly string[] All = [PatientRequest, Compromised, Other];

    public static string French(string? reason) => reason switch
    {
        PatientRequest => "Demande du patient",
        Compromised => "Identifiants compromis",
        _ => "Autre",
    };
}
