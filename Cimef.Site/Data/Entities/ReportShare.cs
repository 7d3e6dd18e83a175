namespace Cimef.Site.Data.Entities;

/// <summary>
/// One report shared with a doctor: the link <c>/s/{token}</c> plus a 6-digit code. Only the token's SHA-256
/// and a keyed hash of the code are stored (a 6-digit code is guessable offline from a plain hash). Valid while not
/// revoked, not expired, not locked (5 wrong codes), the access active and the report published.
/// </summary>
public class ReportShare
{
    public int Id { get; set; }
    public int ReportId { get; set; }
    public PatientReport Report { get; set; } = null!;
    public int PatientAccessId { get; set; }
    public PatientAccess PatientAccess { get; set; } = null!;
    /// <summary>Lower-case hex SHA-256 of the URL token (base64url of 16 random bytes or more).</summary>
    public string TokenHash { get; set; } = "";
    /// <summary>HMAC-SHA256 of the code, keyed by the credential secret and bound to the token hash.</summary>
    public byte[] CodeHash { get; set; } = [];
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    /// <summary>« patient », a staff user name, or the system reason (deactivated, regenerated, withdrawn).</summary>
    public string? RevokedBy { get; set; }
    public int FailedCodeCount { get; set; }
    public DateTime? LockedAt { get; set; }
    /// <summary>Null when the patient created it; otherwise the staff user who did.</summary>
    public string? CreatedByStaffId { get; set; }
    public string? CreatedByStaffName { get; set; }
    /// <summary>The doctor's e-mail or phone (staff-created shares only).</summary>
    public string? Recipient { get; set; }
    /// <summary>
    /// Staff-created shares only: the token and code, Data Protection-encrypted, so the outbox renders them at send
    /// time (bodies are never stored); cleared once both messages are sent.
    /// </summary>
    public string? ProtectedSecret { get; set; }
}
