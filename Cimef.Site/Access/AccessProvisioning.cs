using System.Security.Claims;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Notifications;
using Microsoft.EntityFrameworkCore;
using Cimef.Site.Portal;
using Cimef.Site.Reports;

namespace Cimef.Site.Access;

/// <summary>
/// The spec's rule: when an invoice becomes sent or paid and has no access, get-or-create the patient's
/// single permanent PatientAccess (reactivating it if needed, reusing its credentials), link it to the
/// invoice and queue the credentials notification — unless the access was closed as compromised, which only
/// staff reopen, always with new credentials. Changes are added to the caller's unit of work.
/// </summary>
public sealed class AccessProvisioning(CimefDb db, CredentialProtector protector, TimeProvider time)
{
    public async Task<PatientAccess> EnsureForInvoiceAsync(Invoice invoice, ClaimsPrincipal? by, CancellationToken ct = default)
    {
        if (invoice.PatientAccessId is int existingId)
            return invoice.PatientAccess ?? await db.PatientAccesses.SingleAsync(a => a.Id == existingId, ct);

        var (access, _) = await GetOrCreateAsync(invoice.PatientId, by, ct);
        invoice.PatientAccess = access;
        // An access closed as compromised stays closed: the invoice is linked to it, but no credentials go out.
        if (!access.IsActive) return access;
        await QueueCredentialsAsync(access, ct);
        return access;
    }

    /// <summary>
    /// The one place credentials are queued for the patient (one message per channel they have). Several steps of one
    /// unit of work may each issue credentials (a payment that creates the access, then marks an online checkout paid;
    /// a reactivation that regenerates): the patient gets them once, with the values the unit of work commits.
    /// </summary>
    public async Task QueueCredentialsAsync(PatientAccess access, CancellationToken ct = default)
    {
        if (db.ChangeTracker.Entries<OutboxMessage>().Any(m => m.State == EntityState.Added && m.Entity.Kind == OutboxKind.Credentials
                && (m.Entity.PatientAccess == access || (access.Id != 0 && m.Entity.PatientAccessId == access.Id))))
            return;
        var patient = access.Patient ?? await db.Patients.SingleAsync(p => p.Id == access.PatientId, ct);
        Outbox.Queue(db, OutboxKind.Credentials, patient, access, null, time.GetUtcNow().UtcDateTime);
    }

    public static bool IsCompromised(PatientAccess access) =>
        !access.IsActive && access.DeactivationReason == DeactivationReasons.Compromised;

    /// <summary>
    /// Returns the patient's access, creating it (new credentials) or reactivating it (same credentials) — except
    /// an access closed as compromised, returned still closed: only staff reopen it, with new credentials.
    /// </summary>
    public async Task<(PatientAccess Access, bool Created)> GetOrCreateAsync(int patientId, ClaimsPrincipal? by, CancellationToken ct = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var access = db.PatientAccesses.Local.FirstOrDefault(a => a.PatientId == patientId)
                     ?? await db.PatientAccesses.SingleOrDefaultAsync(a => a.PatientId == patientId, ct);
        if (access is not null)
        {
            if (!access.IsActive && !IsCompromised(access))
            {
                Reopen(access);
                Audit.Staff(db, by, now, "access.reactivate", "PatientAccess", access.Id == 0 ? null : access.Id, $"patient {patientId}");
            }
            return (access, false);
        }

        access = new PatientAccess
        {
            PatientId = patientId,
            AccessKey = await NewUniqueKeyAsync(ct),
            IsActive = true,
            CreatedAt = now,
            CreatedBy = by?.Identity?.Name ?? "système",
        };
        SetPassword(access, CredentialGenerator.NewPassword());
        db.PatientAccesses.Add(access);
        Audit.Staff(db, by, now, "access.create", "PatientAccess", null, $"patient {patientId}, clé …{CredentialGenerator.Suffix(access.AccessKey)}");
        return (access, true);
    }

    /// <summary>New key and password, queued for the patient; the old ones stop working and every open session ends now.</summary>
    public async Task RegenerateAsync(PatientAccess access, ClaimsPrincipal? by, CancellationToken ct = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        access.AccessKey = await NewUniqueKeyAsync(ct);
        SetPassword(access, CredentialGenerator.NewPassword());
        access.RegeneratedAt = now;
        access.RegeneratedBy = by?.Identity?.Name ?? "système";
        await EndSessionsAsync(access.Id, "regenerated", ct);
        Audit.Staff(db, by, now, "access.regenerate", "PatientAccess", access.Id, $"nouvelle clé …{CredentialGenerator.Suffix(access.AccessKey)}");
        await QueueCredentialsAsync(access, ct);
    }

    /// <summary>The audit action of a password renewed by the patient from their phone (<see cref="PatientRecovery"/>).</summary>
    public const string RecoverAction = "access.recover";

    /// <summary>
    /// A new password for the access, the key kept (it is printed on every invoice): the old password stops working and
    /// every open session and share ends now. Nothing is queued — the patient reads the new password on their screen.
    /// <paramref name="how"/> (« code par SMS ») goes in the audit row with the key's last 4 characters, never a secret.
    /// </summary>
    public async Task<string> RecoverPasswordAsync(PatientAccess access, string how, CancellationToken ct = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var password = CredentialGenerator.NewPassword();
        SetPassword(access, password);
        await EndSessionsAsync(access.Id, "recovered", ct);
        Audit.Staff(db, null, "patient", now, RecoverAction, "PatientAccess", access.Id,
            $"patient {access.PatientId}, mot de passe renouvelé depuis un téléphone ({how}), clé …{CredentialGenerator.Suffix(access.AccessKey)}");
        return password;
    }

    /// <summary>Closes the access with a reason (<see cref="DeactivationReasons"/>); on a closed one, updates the reason.</summary>
    public async Task DeactivateAsync(PatientAccess access, ClaimsPrincipal? by, string reason = DeactivationReasons.Other, CancellationToken ct = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (access.IsActive)
        {
            access.IsActive = false;
            access.DeactivatedAt = now;
            access.DeactivatedBy = by?.Identity?.Name ?? "système";
            await EndSessionsAsync(access.Id, "deactivated", ct);
        }
        else if (access.DeactivationReason == reason) return;
        access.DeactivationReason = reason;
        Audit.Staff(db, by, now, "access.deactivate", "PatientAccess", access.Id, $"patient {access.PatientId}, motif : {DeactivationReasons.French(reason)}");
    }

    /// <summary>
    /// Reopens a closed access. Compromised credentials are never reopened: that case (or <paramref name="regenerate"/>)
    /// issues a new key and password and queues them for the patient. Returns whether credentials changed.
    /// </summary>
    public async Task<bool> ActivateAsync(PatientAccess access, bool regenerate, ClaimsPrincipal? by, CancellationToken ct = default)
    {
        if (access.IsActive) return false;
        var now = time.GetUtcNow().UtcDateTime;
        regenerate |= IsCompromised(access);
        Reopen(access);
        Audit.Staff(db, by, now, "access.activate", "PatientAccess", access.Id,
            $"patient {access.PatientId}, {(regenerate ? "nouveaux identifiants" : "mêmes identifiants")}");
        if (regenerate) await RegenerateAsync(access, by, ct);
        return regenerate;
    }

    private static void Reopen(PatientAccess access)
    {
        access.IsActive = true;
        access.DeactivatedAt = null;
        access.DeactivatedBy = null;
        access.DeactivationReason = null;
    }

    /// <summary>Ends the access's open sessions and report shares immediately (executed now, not at SaveChanges).</summary>
    public async Task<int> EndSessionsAsync(int accessId, string reason, CancellationToken ct = default)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await ReportShares.EndForAccessAsync(db, accessId, now, reason, ct);
        return await db.PatientSessions
            .Where(s => s.PatientAccessId == accessId && s.EndedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.EndedAt, now).SetProperty(s => s.EndReason, reason), ct);
    }

    public string RevealPassword(PatientAccess access) => protector.Unprotect(access.ProtectedPassword);

    private void SetPassword(PatientAccess access, string password)
    {
        access.PasswordHash = protector.Hash(password);
        access.ProtectedPassword = protector.Protect(password);
    }

    private async Task<string> NewUniqueKeyAsync(CancellationToken ct)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var key = CredentialGenerator.NewKey();
            if (!await db.PatientAccesses.AnyAsync(a => a.AccessKey == key, ct)) return key;
        }
        throw new InvalidOperationException("Could not generate a unique access key.");
    }
}
