namespace Cimef.Site.Data.Entities;

/// <summary>
/// One request of « Clé ou mot de passe perdu ? » for a phone number or e-mail address (<c>Portal.PatientRecovery</c>).
/// A row is written for every request, known address or not (an unknown one's code is never sent), so both cost the
/// same and count alike towards Portal:RecoveryCodesPerDay; rows older than a day are deleted by the next request.
/// Only keyed hashes are stored: of the address, of the code (bound to the address) and of the recovery token the right
/// code gives; the code itself only Data Protection-encrypted while the outbox has not sent it.
/// </summary>
public class RecoveryCode
{
    public long Id { get; set; }
    /// <summary>Keyed hash (hex) of the normalised address: « p:+221771234567 » or « e:awa@example.sn ».</summary>
    public string ContactHash { get; set; } = "";
    /// <summary>HMAC-SHA256 of the code, keyed by the credential secret and bound to <see cref="ContactHash"/>.</summary>
    public byte[] CodeHash { get; set; } = [];
    /// <summary>The code, Data Protection-encrypted, until its message is sent (then null); empty for an unknown address.</summary>
    public string? ProtectedCode { get; set; }
    /// <summary>How the code travels (SMS to a phone number, e-mail to an address); the notice takes the other way.</summary>
    public OutboxChannel Channel { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    /// <summary>Codes checked (each reserved before it is compared); at 5 the code is dead.</summary>
    public int Attempts { get; set; }
    /// <summary>When the right code was accepted (a code serves once).</summary>
    public DateTime? UsedAt { get; set; }
    /// <summary>Keyed hash (hex) of the recovery token the right code gave.</summary>
    public string? TokenHash { get; set; }
    public DateTime? TokenExpiresAt { get; set; }
    /// <summary>When the token renewed a password (a token serves once).</summary>
    public DateTime? TokenUsedAt { get; set; }
    /// <summary>The accesses the token may renew, « 12,15 », as listed when the code was accepted.</summary>
    public string? AccessIds { get; set; }
}
