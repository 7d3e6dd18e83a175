using Cimef.Site.Api;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Languages;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using Cimef.Site.Access;

namespace Cimef.Site.Portal;

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
    IServiceProvider services, LoginThrottle throttle, MalformedKeyAttempts malformed, DeviceCookies devices, PhoneCookies phones,
    CredentialProtector protector, PatientSessions sessions, HotQueries queries, TimeProvider time)
{
    public enum Outcome { Success, Invalid, Disabled, Throttled }

    /// <summary>The request's context, built only when used (a sampled malformed key, PostgreSQL): not on a SQLite attempt.</summary>
    private CimefDb db => field ??= services.GetRequiredService<CimefDb>();

    public sealed record Result(Outcome Outcome, int RetryAfterSeconds = 0, string? SessionToken = null, PatientAccess? Access = null);

    public async Task<Result> SignInAsync(HttpContext http, string? submittedKey, string? password, bool remember, CancellationToken ct)
    {
        var key = LoginKey.Of(submittedKey, protector);
        var ip = ClientIp.Of(http);
        var bucket = ClientIp.Bucket(http);
        var now = time.GetUtcNow().UtcDateTime;

        if (!key.IsWellFormed)
        {
            var counted = malformed.Count(bucket, now);
            if (counted.Sample)
            {
                Audit.Patient(db, http, now, counted.OverLimit ? AccessEventKinds.LoginThrottled : AccessEventKinds.LoginFailure, null,
                    keySuffix: key.Suffix, detail: $"clé mal formée (échantillon, {counted.Count} essai(s) de cette adresse dans la fenêtre)");
                await db.SaveChangesAsync(ct);
            }
            var refused = counted.OverLimit ? new Result(Outcome.Throttled, counted.RetryAfterSeconds) : new Result(Outcome.Invalid);
            CimefMetrics.Login(refused.Outcome);
            return refused;
        }

        // One write transaction per attempt, so one fsync (synchronous=FULL): on SQLite BEGIN IMMEDIATE inside the write
        // gate (the write lock is taken first, so the reservation's count and insert stay atomic and no read-to-write
        // upgrade can fail), its statements compiled once (HotQueries); on PostgreSQL the throttle takes its advisory
        // locks inside it. The reservation, the password check (in memory) and the outcome (event, or session + count
        // + event) commit together; the whole attempt either commits or rolls back.
        var phone = phones.Read(http.Request) ?? PhoneCookies.NewPhone();
        var device = devices.Recognises(http.Request, key) || phone.Remembers(key);
        var pageLanguage = http.Request.IsApi() ? null : PatientLanguages.Current;
        string? token = null;
        var (result, access) = await queries.WriteAsync(() => db, async c =>
        {
            var access = await c.ReadAsync(FindAccessSql, cmd => HotQueries.Add(cmd, "key", key.Text), async r => await r.ReadAsync(ct)
                ? new PatientAccess
                {
                    Id = (int)HotQueries.Long(r, 0), PatientId = (int)HotQueries.Long(r, 1), AccessKey = key.Text, PasswordHash = (byte[])r.GetValue(2),
                    IsActive = HotQueries.Long(r, 3) != 0, AccessCount = (int)HotQueries.Long(r, 4), LastAccess = HotQueries.NullableDate(r, 5),
                    Patient = new Patient { Id = (int)HotQueries.Long(r, 1), FullName = r.GetString(6), Phone = r.GetString(7), Language = HotQueries.NullableString(r, 8) },
                }
                : null, ct);
            var reservation = await throttle.ReserveAsync(c, key, device, access?.Id, bucket, ct);
            if (!reservation.Reserved)
            {
                await EventAsync(c, http, now, AccessEventKinds.LoginThrottled, null, key, ct);
                return (new Result(Outcome.Throttled, reservation.RetryAfterSeconds), access);
            }
            if (!protector.Verify(password ?? "", access?.PasswordHash) || access is null)
            {
                await EventAsync(c, http, now, AccessEventKinds.LoginFailure, access?.Id, key, ct);
                return (reservation.AddressOverLimit ? new Result(Outcome.Throttled, reservation.RetryAfterSeconds) : new Result(Outcome.Invalid), access);
            }
            if (!access.IsActive)
            {
                await EventAsync(c, http, now, AccessEventKinds.LoginDisabled, access.Id, key, ct);
                return (new Result(Outcome.Disabled), access);
            }
            await throttle.ClearBucketAsync(c, key, device, ct);
            access.AccessCount++;
            access.LastAccess = now;
            await c.ExecuteAsync(CountAccessSql, cmd =>
            {
                HotQueries.Add(cmd, "id", access.Id);
                HotQueries.Add(cmd, "now", now);
            }, ct);
            // The page's language is the patient's last choice (null means French); the JSON API has no switch.
            if (pageLanguage is not null && await PatientLanguages.SaveAsync(c, access.PatientId, access.Patient.Language, pageLanguage, ct))
                access.Patient.Language = pageLanguage;
            token = await sessions.StartAsync(c, access.Id, ip, phone.DeviceHash, ct);
            await EventAsync(c, http, now, AccessEventKinds.LoginSuccess, access.Id, key, ct);
            return (new Result(Outcome.Success, SessionToken: token, Access: access), access);
        }, ct);
        CimefMetrics.Login(result.Outcome);
        if (token is null) return result;
        devices.Issue(http.Response, key);
        phones.Issue(http.Response, remember ? phones.Remember(phone, access!.Id, key, access.Patient.FullName) : phone);
        return result;
    }

    private const string FindAccessSql = """
        SELECT a."Id", a."PatientId", a."PasswordHash", a."IsActive", a."AccessCount", a."LastAccess", p."FullName", p."Phone", p."Language"
        FROM "PatientAccesses" a JOIN "Patients" p ON p."Id" = a."PatientId" WHERE a."AccessKey" = @key
        """;
    private const string CountAccessSql = """UPDATE "PatientAccesses" SET "AccessCount" = "AccessCount" + 1, "LastAccess" = @now WHERE "Id" = @id""";

    /// <summary>The attempt's one AccessEvent, in its transaction.</summary>
    private static Task<int> EventAsync(HotQueries.Commands c, HttpContext http, DateTime now, string kind, int? accessId, LoginKey key, CancellationToken ct) =>
        Audit.InsertAsync(c, Audit.PatientEvent(http, now, kind, accessId, keySuffix: key.Suffix), ct);
}
