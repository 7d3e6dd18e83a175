using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Languages;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Access;

/// <summary>
/// One patient login attempt, shared by the login page and the JSON API. A malformed key is refused from memory
/// (no database write, one sampled event per address and minute). Otherwise throttle first (the attempt is
/// reserved in its key bucket — device cookie or not — before any check), then the constant-time password check
/// (an unknown key costs the same), then the access state. An address over its failure limit still gets its
/// password checked: a correct one gets in, a wrong one answers 429 like a lock, so the address learns nothing.
/// One AccessEvent per well-formed attempt, committed in the same write transaction as its throttle reservation
/// (one fsync per attempt). Success resets its bucket, counts the access, starts a fresh session (bound to the phone's
/// device id) and (re)issues the device cookie and the phone cookie (<see cref="PhoneCookies"/>), which remembers the
/// key when the caller asks (the login page's checkbox; the JSON API never does); it also saves the login page's
/// language on the patient when it changed.
/// </summary>
public sealed class PatientSignIn(
    CimefDb db, LoginThrottle throttle, MalformedKeyAttempts malformed, DeviceCookies devices, PhoneCookies phones,
    CredentialProtector protector, PatientSessions sessions, SqliteWriteGate gate, TimeProvider time)
{
    public enum Outcome { Success, Invalid, Disabled, Throttled }

    public sealed record Result(Outcome Outcome, int RetryAfterSeconds = 0, string? SessionToken = null, PatientAccess? Access = null);

    public async Task<Result> SignInAsync(HttpContext http, string? submittedKey, string? password, bool remember, CancellationToken ct)
    {
        var key = CredentialGenerator.NormalizeKey(submittedKey);
        var ip = ClientIp.Of(http);
        var bucket = ClientIp.Bucket(http);
        var now = time.GetUtcNow().UtcDateTime;

        if (!CredentialGenerator.IsWellFormedKey(key))
        {
            var counted = malformed.Count(bucket, now);
            if (counted.Sample)
            {
                Audit.Patient(db, http, now, counted.OverLimit ? AccessEventKinds.LoginThrottled : AccessEventKinds.LoginFailure, null,
                    submittedKey: key, detail: $"clé mal formée (échantillon, {counted.Count} essai(s) de cette adresse dans la fenêtre)");
                await db.SaveChangesAsync(ct);
            }
            return counted.OverLimit ? new Result(Outcome.Throttled, counted.RetryAfterSeconds) : new Result(Outcome.Invalid);
        }

        // One write transaction per attempt, so one fsync (synchronous=FULL): on SQLite EF's transaction is
        // BEGIN IMMEDIATE (the write lock is taken first, so the reservation's count and insert stay atomic and no
        // read-to-write upgrade can fail); on PostgreSQL the throttle takes its advisory locks inside it. The
        // reservation, the password check (in memory) and the outcome (event, or session + count + event) commit
        // together. No savepoint: the whole attempt either commits or rolls back.
        db.Database.AutoSavepointsEnabled = false;
        using var writer = await gate.EnterAsync(db, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var access = await db.PatientAccesses.Include(a => a.Patient).SingleOrDefaultAsync(a => a.AccessKey == key, ct);
        var phone = phones.Read(http.Request) ?? PhoneCookies.NewPhone();
        var device = devices.Recognises(http.Request, key) || phone.Remembers(protector.KeyHash(key));
        var reservation = await throttle.TryReserveAsync(key, device, access?.Id, bucket, ct);
        Result result;
        string? token = null;
        if (!reservation.Reserved)
        {
            Audit.Patient(db, http, now, AccessEventKinds.LoginThrottled, null, submittedKey: key);
            result = new Result(Outcome.Throttled, reservation.RetryAfterSeconds);
        }
        else if (!protector.Verify(password ?? "", access?.PasswordHash) || access is null)
        {
            Audit.Patient(db, http, now, AccessEventKinds.LoginFailure, access?.Id, submittedKey: key);
            result = reservation.AddressOverLimit ? new Result(Outcome.Throttled, reservation.RetryAfterSeconds) : new Result(Outcome.Invalid);
        }
        else if (!access.IsActive)
        {
            Audit.Patient(db, http, now, AccessEventKinds.LoginDisabled, access.Id, submittedKey: key);
            result = new Result(Outcome.Disabled);
        }
        else
        {
            await throttle.ClearBucketAsync(key, device, ct);
            access.AccessCount++;
            access.LastAccess = now;
            // The page's language is the patient's last choice (null means French); the JSON API has no switch.
            if (!http.Request.Path.StartsWithSegments("/api") && (access.Patient.Language ?? PatientLanguages.French) != PatientLanguages.Current)
                access.Patient.Language = PatientLanguages.Current;
            token = sessions.Start(access, ip, phone.DeviceHash);
            Audit.Patient(db, http, now, AccessEventKinds.LoginSuccess, access.Id, submittedKey: key);
            result = new Result(Outcome.Success, SessionToken: token, Access: access);
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        writer?.Dispose();
        if (token is null) return result;
        devices.Issue(http.Response, key);
        phones.Issue(http.Response, remember ? phones.Remember(phone, access!.Id, key, access.Patient.FullName) : phone);
        return result;
    }
}
