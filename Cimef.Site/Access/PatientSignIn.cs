using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Access;

/// <summary>
/// One patient login attempt, shared by the login page and the JSON API: throttle first (the attempt is
/// reserved before any check), then the constant-time password check (an unknown key costs the same),
/// then the access state. Exactly one AccessEvent per attempt. Success resets the key's failures,
/// counts the access and starts a fresh session.
/// </summary>
public sealed class PatientSignIn(CimefDb db, LoginThrottle throttle, CredentialProtector protector, PatientSessions sessions, TimeProvider time)
{
    public enum Outcome { Success, Invalid, Disabled, Throttled }

    public sealed record Result(Outcome Outcome, int RetryAfterSeconds = 0, string? SessionToken = null, PatientAccess? Access = null);

    public async Task<Result> SignInAsync(HttpContext http, string? submittedKey, string? password, CancellationToken ct = default)
    {
        var key = CredentialGenerator.NormalizeKey(submittedKey);
        var ip = ClientIp.Of(http);
        var now = time.GetUtcNow().UtcDateTime;

        var reservation = await throttle.TryReserveAsync(key, ip, ct);
        if (!reservation.Reserved)
        {
            Audit.Patient(db, http, now, AccessEventKinds.LoginThrottled, null, submittedKey: key);
            await db.SaveChangesAsync(ct);
            return new Result(Outcome.Throttled, reservation.RetryAfterSeconds);
        }

        var access = CredentialGenerator.IsWellFormedKey(key)
            ? await db.PatientAccesses.Include(a => a.Patient).SingleOrDefaultAsync(a => a.AccessKey == key, ct)
            : null;
        var verified = protector.Verify(password ?? "", access?.PasswordHash);
        if (!verified || access is null)
        {
            Audit.Patient(db, http, now, AccessEventKinds.LoginFailure, access?.Id, submittedKey: key);
            await db.SaveChangesAsync(ct);
            return new Result(Outcome.Invalid);
        }
        if (!access.IsActive)
        {
            Audit.Patient(db, http, now, AccessEventKinds.LoginDisabled, access.Id, submittedKey: key);
            await db.SaveChangesAsync(ct);
            return new Result(Outcome.Disabled);
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await throttle.ClearKeyAsync(key, ct);
        access.AccessCount++;
        access.LastAccess = now;
        var token = sessions.Start(access, ip);
        Audit.Patient(db, http, now, AccessEventKinds.LoginSuccess, access.Id, submittedKey: key);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new Result(Outcome.Success, SessionToken: token, Access: access);
    }
}
