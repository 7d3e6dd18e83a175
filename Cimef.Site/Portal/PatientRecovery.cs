using System.Globalization;
using System.Net.Mail;
using System.Security.Cryptography;
using System.Text.Json;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.FrontDesk;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Cimef.Site.Access;

namespace Cimef.Site.Portal;

/// <summary>
/// « Clé ou mot de passe perdu ? »: the patient proves they hold the phone number (or e-mail address) registered at the
/// clinic — the channel the credentials went to in the first place — and renews the password of one access registered
/// to it. Three steps, each shared by the pages and the JSON API:
/// <list type="number">
/// <item><see cref="RequestAsync"/>: a 6-digit code by SMS (or e-mail) through the outbox. Known and unknown addresses
/// write the same row (an unknown one's code is never sent) and count alike towards Portal:RecoveryCodesPerDay, so
/// neither the answer, nor its time, nor the limit tells them apart; rows older than a day are deleted.</item>
/// <item><see cref="VerifyAsync"/>: each code checked is first reserved (a conditional UPDATE under the limit), so five
/// wrong ones kill the code whatever the concurrency; the right one is taken by one conditional UPDATE, so of two nodes
/// checking it at once one wins. It gives a recovery token (once, Portal:RecoveryCodeMinutes) and the accesses
/// registered to the address — a family shares one phone; compromised ones are not listed, closed ones cannot be renewed.</item>
/// <item><see cref="ResetAsync"/>: the token, taken once, renews the chosen access's password (the key stays: it is
/// printed on every invoice) through <see cref="AccessProvisioning.RecoverPasswordAsync"/>, tells the patient on the
/// other channel, and signs them in.</item>
/// </list>
/// Only keyed hashes of the address, the code and the token are stored (<see cref="CredentialProtector"/>), compared in
/// fixed time; the code exists encrypted only until its message is sent.
/// </summary>
public sealed class PatientRecovery(
    CimefDb db, CredentialProtector protector, AccessProvisioning provisioning, LoginThrottle throttle, PatientSignIn signIn,
    IDataProtectionProvider dataProtection, TimeProvider time, IOptions<PortalOptions> portal)
{
    public const int MaxCodeAttempts = 5;
    public const string CookieName = "__Host-cimef_recover";
    private const string CodePurpose = "Cimef.Recovery.Code.v1";
    private const string ProgressPurpose = "Cimef.Recovery.Progress.v1";

    /// <summary>A normalised address: E.164 for a phone number, lower case for an e-mail address.</summary>
    public sealed record Contact(string Value, bool IsEmail)
    {
        public string Normalized => (IsEmail ? "e:" : "p:") + Value;
        public OutboxChannel Channel => IsEmail ? OutboxChannel.Email : OutboxChannel.Sms;

        public static Contact? FromNormalized(string? s) => s switch
        {
            ['p', ':', .. var phone] => new Contact(phone, false),
            ['e', ':', .. var email] => new Contact(email, true),
            _ => null,
        };
    }

    /// <summary>One access registered to the address: « A. D. — …2KZF »; a closed one is listed but cannot be renewed here.</summary>
    public sealed record Choice(int AccessId, string Label, bool Recoverable);

    public enum RequestOutcome { Accepted, TooMany }

    public enum ResetOutcome { Ok, BadToken, NotListed, Closed }

    public sealed record ResetResult(ResetOutcome Outcome, string? AccessKey = null, string? Password = null, string? SessionToken = null);

    private sealed record Match(int AccessId, int PatientId, string FullName, string AccessKey, bool IsActive, string? Language, string? Email)
    {
        public Choice Choice => new(AccessId, $"{PhoneCookies.Initials(FullName)} — …{CredentialGenerator.Suffix(AccessKey)}", IsActive);
    }

    private DateTime Now => time.GetUtcNow().UtcDateTime;
    private TimeSpan Lifetime => TimeSpan.FromMinutes(portal.Value.RecoveryCodeMinutes);

    /// <summary>
    /// A phone number in any common Senegalese form (libphonenumber, as the front desk stores it), or else an e-mail
    /// address; null when what was typed is neither.
    /// </summary>
    public static Contact? ParseContact(string? phone, string? email)
    {
        if (!string.IsNullOrWhiteSpace(phone)) return Phones.Normalize(phone) is { } e164 ? new Contact(e164, false) : null;
        if (string.IsNullOrWhiteSpace(email)) return null;
        var trimmed = email.Trim();
        return trimmed.Length <= 254 && MailAddress.TryCreate(trimmed, out var parsed) && parsed.Address == trimmed
            ? new Contact(trimmed.ToLowerInvariant(), true)
            : null;
    }

    public static bool IsWellFormedCode(string? code) => code is { Length: 6 } && code.All(char.IsAsciiDigit);

    /// <summary>43 base64url characters = 32 bytes; anything else is not a token (no database query).</summary>
    public static bool IsWellFormedToken(string? token) =>
        token is { Length: 43 } && token.All(c => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');

    /// <summary>Step 1: a code for the address (sent only if it is registered), or TooMany past the day's limit.</summary>
    public async Task<(RequestOutcome Outcome, int RetryAfterSeconds)> RequestAsync(Contact contact, CancellationToken ct)
    {
        var now = Now;
        var contactHash = protector.RecoveryContactHash(contact.Normalized);
        var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", CultureInfo.InvariantCulture);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var matches = await MatchesAsync(contact, ct);
        var sendable = matches.Count > 0 && (contact.IsEmail || Phones.CanReceiveSms(contact.Value));
        // Known or not, the same work and statements (the code is encrypted either way, kept only when it will be sent); only the outbox row differs.
        var protectedCode = dataProtection.CreateProtector(CodePurpose).Protect(code);
        var dayAgo = now.AddDays(-1);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // PostgreSQL: requests for one address wait for each other, so the count and the insert below stay one step on
        // every node; SQLite's single writer makes the INSERT … WHERE count < limit atomic by itself.
        if (SqlDialect.Of(db).TransactionLock(LockSpace.RecoveryContact, "{0}") is { } lockSql)
            await db.Database.ExecuteSqlRawAsync(lockSql, [contactHash], ct);
        await db.RecoveryCodes.Where(r => r.CreatedAt < dayAgo).ExecuteDeleteAsync(ct);
        var inserted = await db.Database.SqlQueryRaw<long>("""
            INSERT INTO "RecoveryCodes" ("ContactHash", "CodeHash", "ProtectedCode", "Channel", "CreatedAt", "ExpiresAt", "Attempts")
            SELECT {0}, {1}, {7}, {2}, {3}, {4}, 0
            WHERE (SELECT COUNT(*) FROM "RecoveryCodes" WHERE "ContactHash" = {0} AND "CreatedAt" > {5}) < {6}
            RETURNING "Id" AS "Value"
            """, contactHash, protector.RecoveryCodeHash(contactHash, code), contact.Channel.ToString(), now, now + Lifetime, dayAgo,
            portal.Value.RecoveryCodesPerDay, sendable ? protectedCode : "").ToListAsync(ct);
        if (inserted.Count == 0)
        {
            var oldest = await db.RecoveryCodes.Where(r => r.ContactHash == contactHash && r.CreatedAt > dayAgo).MinAsync(r => r.CreatedAt, ct);
            await AnswerFloorAsync(started, ct);
            return (RequestOutcome.TooMany, Math.Max(1, (int)Math.Ceiling((oldest.AddDays(1) - now).TotalSeconds)));
        }
        var id = inserted[0];
        // Only the newest code of an address is live: the patient types the last SMS received.
        await db.RecoveryCodes.Where(r => r.ContactHash == contactHash && r.Id != id && r.UsedAt == null && r.ExpiresAt > now)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.ExpiresAt, now), ct);
        if (sendable)
        {
            // The message speaks the language of whoever at this address chose one (a family shares it).
            var addressee = matches.FirstOrDefault(m => m.Language is not null) ?? matches[0];
            db.OutboxMessages.Add(new OutboxMessage
            {
                Kind = OutboxKind.RecoveryCode,
                Channel = contact.Channel,
                PatientId = addressee.PatientId,
                Recipient = contact.Value,
                RecoveryCodeId = id,
                Status = OutboxStatus.Pending,
                CreatedAt = now,
                NextAttemptAt = now,
            });
            await db.SaveChangesAsync(ct);
        }
        await tx.CommitAsync(ct);
        await AnswerFloorAsync(started, ct);
        return (RequestOutcome.Accepted, 0);
    }

    /// <summary>
    /// Every answer to step 1 takes at least this long, so its time cannot tell a registered address from another (the
    /// registered one queues a message besides). Wall-clock time, on purpose: it is what a caller measures.
    /// </summary>
    public static readonly TimeSpan AnswerFloor = TimeSpan.FromMilliseconds(150);

    private static async Task AnswerFloorAsync(long started, CancellationToken ct)
    {
        var left = AnswerFloor - System.Diagnostics.Stopwatch.GetElapsedTime(started);
        if (left > TimeSpan.Zero) await Task.Delay(left, ct);
    }

    /// <summary>Step 2: the recovery token and the address's accesses for the right code; null for a wrong, dead or expired one.</summary>
    public async Task<(string Token, IReadOnlyList<Choice> Choices)?> VerifyAsync(Contact contact, string? code, CancellationToken ct)
    {
        var now = Now;
        var contactHash = protector.RecoveryContactHash(contact.Normalized);
        var wellFormed = IsWellFormedCode(code);
        var live = await db.RecoveryCodes.AsNoTracking()
            .Where(r => r.ContactHash == contactHash && r.UsedAt == null && r.ExpiresAt > now)
            .OrderByDescending(r => r.Id).Select(r => new { r.Id, r.CodeHash }).FirstOrDefaultAsync(ct);
        var computed = protector.RecoveryCodeHash(contactHash, wellFormed ? code! : "------");
        if (live is null) return null;
        // The attempt counts before the comparison, and only while under the limit: a sixth code, right or not, is refused.
        var reserved = await db.RecoveryCodes.Where(r => r.Id == live.Id && r.Attempts < MaxCodeAttempts && r.UsedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.Attempts, r => r.Attempts + 1), ct);
        if (reserved == 0 || !wellFormed || !CryptographicOperations.FixedTimeEquals(computed, live.CodeHash)) return null;

        var choices = (await MatchesAsync(contact, ct)).Select(m => m.Choice).ToList();
        var token = Base64Url(RandomNumberGenerator.GetBytes(32));
        var tokenHash = protector.RecoveryTokenHash(token);
        var ids = string.Join(",", choices.Select(c => c.AccessId.ToString(CultureInfo.InvariantCulture)));
        var won = await db.RecoveryCodes.Where(r => r.Id == live.Id && r.UsedAt == null && r.ExpiresAt > now)
            .ExecuteUpdateAsync(u => u
                .SetProperty(r => r.UsedAt, now)
                .SetProperty(r => r.TokenHash, tokenHash)
                .SetProperty(r => r.TokenExpiresAt, now + Lifetime)
                .SetProperty(r => r.AccessIds, ids), ct);
        return won == 1 ? (token, choices) : null;
    }

    /// <summary>The accesses a live, unused token may renew (a compromised one dropped); null when the token is not usable.</summary>
    public async Task<IReadOnlyList<Choice>?> ChoicesAsync(string? token, CancellationToken ct)
    {
        var row = await LiveTokenAsync(token, ct);
        if (row is null) return null;
        var ids = Ids(row);
        return (await db.PatientAccesses.AsNoTracking().Where(a => ids.Contains(a.Id)).OrderBy(a => a.Id)
                .Select(a => new { a.Id, a.PatientId, a.Patient.FullName, a.AccessKey, a.IsActive, a.DeactivationReason, a.Patient.Language, a.Patient.Email })
                .ToListAsync(ct))
            .Where(a => a.IsActive || a.DeactivationReason != DeactivationReasons.Compromised)
            .Select(a => new Match(a.Id, a.PatientId, a.FullName, a.AccessKey, a.IsActive, a.Language, a.Email).Choice).ToList();
    }

    /// <summary>
    /// Step 3: a new password for <paramref name="accessId"/> if the token lists it and is still usable (it is taken in the
    /// same transaction as the change), the other channel told, the key's throttle buckets cleared (guesses at the old
    /// password say nothing about the new one) and a session started.
    /// </summary>
    public async Task<ResetResult> ResetAsync(HttpContext http, string? token, int accessId, CancellationToken ct)
    {
        var row = await LiveTokenAsync(token, ct);
        if (row is null) return new ResetResult(ResetOutcome.BadToken);
        if (!Ids(row).Contains(accessId)) return new ResetResult(ResetOutcome.NotListed);
        var access = await db.PatientAccesses.Include(a => a.Patient).SingleOrDefaultAsync(a => a.Id == accessId, ct);
        if (access is null || AccessProvisioning.IsCompromised(access)) return new ResetResult(ResetOutcome.NotListed);
        if (!access.IsActive) return new ResetResult(ResetOutcome.Closed);

        var now = Now;
        string password;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var taken = await db.RecoveryCodes.Where(r => r.Id == row.Id && r.TokenUsedAt == null && r.TokenExpiresAt > now)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.TokenUsedAt, now), ct);
            if (taken == 0) return new ResetResult(ResetOutcome.BadToken);
            password = await provisioning.RecoverPasswordAsync(access, row.Channel == OutboxChannel.Sms ? "code par SMS" : "code par e-mail", ct);
            QueueNotice(access, row.Channel, now);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        await throttle.ClearKeyAsync(access.AccessKey, ct);
        var signedIn = await signIn.SignInAsync(http, access.AccessKey, password, remember: false, ct);
        return new ResetResult(ResetOutcome.Ok, access.AccessKey, password, signedIn.SessionToken);
    }

    /// <summary>The code a <see cref="OutboxKind.RecoveryCode"/> message carries, decrypted at send time.</summary>
    public static string UnprotectCode(IDataProtectionProvider dataProtection, string protectedCode) =>
        dataProtection.CreateProtector(CodePurpose).Unprotect(protectedCode);

    /// <summary>The patient hears of it on the channel the code did not take (e-mail after an SMS code, and the reverse), when there is one.</summary>
    private void QueueNotice(PatientAccess access, OutboxChannel codeChannel, DateTime now)
    {
        var patient = access.Patient;
        var (channel, recipient) = codeChannel == OutboxChannel.Sms
            ? (OutboxChannel.Email, patient.Email)
            : (OutboxChannel.Sms, Phones.CanReceiveSms(patient.Phone) ? patient.Phone : null);
        if (string.IsNullOrWhiteSpace(recipient)) return;
        db.OutboxMessages.Add(new OutboxMessage
        {
            Kind = OutboxKind.RecoveryNotice,
            Channel = channel,
            PatientId = patient.Id,
            PatientAccessId = access.Id,
            Recipient = recipient,
            Status = OutboxStatus.Pending,
            CreatedAt = now,
            NextAttemptAt = now,
        });
    }

    private async Task<RecoveryCode?> LiveTokenAsync(string? token, CancellationToken ct)
    {
        if (!IsWellFormedToken(token)) return null;
        var hash = protector.RecoveryTokenHash(token!);
        var now = Now;
        return await db.RecoveryCodes.AsNoTracking()
            .SingleOrDefaultAsync(r => r.TokenHash == hash && r.TokenUsedAt == null && r.TokenExpiresAt > now, ct);
    }

    private static HashSet<int> Ids(RecoveryCode row) =>
        (row.AccessIds ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToHashSet();

    /// <summary>The accesses registered to the address, oldest first, except those closed as compromised.</summary>
    private async Task<List<Match>> MatchesAsync(Contact contact, CancellationToken ct)
    {
        var q = db.PatientAccesses.AsNoTracking()
            .Where(a => a.IsActive || a.DeactivationReason == null || a.DeactivationReason != DeactivationReasons.Compromised);
        q = contact.IsEmail
            ? q.Where(a => a.Patient.Email != null && a.Patient.Email.ToLower() == contact.Value)
            : q.Where(a => a.Patient.Phone == contact.Value);
        return await q.OrderBy(a => a.Id)
            .Select(a => new Match(a.Id, a.PatientId, a.Patient.FullName, a.AccessKey, a.IsActive, a.Patient.Language, a.Patient.Email))
            .ToListAsync(ct);
    }

    /// <summary>
    /// The pages' step between requests: the address typed, then the token — a Data Protection-encrypted, HttpOnly,
    /// <c>__Host-</c>, SameSite=Strict cookie that lives as long as a code.
    /// </summary>
    public sealed record Progress(string Contact, string? Token, long ExpiresUnix);

    public Progress? ReadProgress(HttpRequest request)
    {
        var value = request.Cookies[CookieName];
        if (string.IsNullOrEmpty(value) || value.Length > 1000) return null;
        try
        {
            var progress = JsonSerializer.Deserialize<Progress>(dataProtection.CreateProtector(ProgressPurpose).Unprotect(value));
            return progress is { Contact: not null } && progress.ExpiresUnix > time.GetUtcNow().ToUnixTimeSeconds() ? progress : null;
        }
        catch (CryptographicException) { return null; }
        catch (JsonException) { return null; }
    }

    public void WriteProgress(HttpResponse response, string contact, string? token) =>
        response.Cookies.Append(CookieName, dataProtection.CreateProtector(ProgressPurpose).Protect(JsonSerializer.Serialize(
            new Progress(contact, token, (time.GetUtcNow() + Lifetime).ToUnixTimeSeconds()))), ProgressCookie(Lifetime));

    public static void DeleteProgress(HttpResponse response) => response.Cookies.Delete(CookieName, ProgressCookie(null));

    private static CookieOptions ProgressCookie(TimeSpan? maxAge) => Web.HostCookies.Options(maxAge);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
