using System.Security.Cryptography;
using System.Text;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Cimef.Site.Access;

namespace Cimef.Site.Reports;

/// <summary>
/// Sharing one report with a doctor: a link <c>/s/{token}</c> (128 random bits, base64url, stored as its
/// SHA-256) and a 6-digit code (stored as a keyed hash). The doctor who types the right code gets a short-lived
/// cookie bound to that one share. Five wrong codes lock the share; each attempt is reserved before it is checked,
/// so parallel guesses cannot exceed the limit. A share ends when revoked, expired, locked, when the access is
/// deactivated or regenerated, or when the report is withdrawn (<see cref="EndForAccessAsync"/>, <see cref="EndForReport"/>).
/// </summary>
public sealed class ReportShares(CimefDb db, CredentialProtector protector, IDataProtectionProvider dataProtection, TimeProvider time)
{
    public const string CookieName = "__Host-cimef_share";
    public const int MaxCodeFailures = 5;
    /// <summary>How long a doctor's session lasts after the code (never past the share's expiry).</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromMinutes(30);
    public static readonly int[] Durations = [1, 7, 30];
    /// <summary>Active shares one report may have at once (patient's and clinic's together): a few doctors, not a broadcast.</summary>
    public const int MaxActivePerReport = 10;
    public static string LimitReached => $"Ce compte rendu est déjà partagé {MaxActivePerReport} fois : révoquez un partage avant d'en créer un autre.";

    /// <summary>A share just created: the only moment its token and code exist in clear.</summary>
    public sealed record Created(ReportShare Share, string Token, string Code);

    public sealed record Row(int Id, int ReportId, string ReportTitle, DateTime CreatedAt, DateTime ExpiresAt, bool ByStaff, string? Recipient);

    public enum CodeOutcome { Ok, Wrong, Locked }

    private IDataProtector CookieProtector => dataProtection.CreateProtector("Cimef.ReportShare.Cookie.v1");
    private IDataProtector SecretProtector => dataProtection.CreateProtector("Cimef.ReportShare.Secret.v1");

    /// <summary>The absolute short link: the portal's origin (<c>Portal:Url</c>) + /s/{token}.</summary>
    public static string Link(PortalOptions portal, string token) => new Uri(new Uri(portal.Url), "/s/" + token).ToString();

    public static string HashToken(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>22 base64url characters = 16 bytes; anything else is not a token (no database query).</summary>
    public static bool IsWellFormedToken(string? token) =>
        token is { Length: 22 } && token.All(c => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');

    public static bool IsWellFormedCode(string? code) => code is { Length: 6 } && code.All(char.IsAsciiDigit);

    /// <summary>
    /// Creates a share of <paramref name="report"/> and commits it with whatever <paramref name="within"/> adds (messages,
    /// audit); null, with nothing written, when the report already has <see cref="MaxActivePerReport"/> active shares. The
    /// transaction first locks the report row (a guarded UPDATE), so concurrent creations cannot pass the cap together.
    /// </summary>
    public async Task<Created?> CreateAsync(PatientReport report, int days, CancellationToken ct, string? staffId = null, string? staffName = null,
        string? recipient = null, Action<Created>? within = null)
    {
        if (!Durations.Contains(days)) throw new ArgumentOutOfRangeException(nameof(days));
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.PatientReports.Where(r => r.Id == report.Id).ExecuteUpdateAsync(u => u.SetProperty(r => r.IsActive, r => r.IsActive), ct);
        if (await Valid(time.GetUtcNow().UtcDateTime).CountAsync(s => s.ReportId == report.Id, ct) >= MaxActivePerReport) return null;
        var created = Create(report, days, staffId, staffName, recipient);
        within?.Invoke(created);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return created;
    }

    private Created Create(PatientReport report, int days, string? staffId, string? staffName, string? recipient)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var token = Base64Url(RandomNumberGenerator.GetBytes(16));
        var code = RandomNumberGenerator.GetInt32(0, 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        var tokenHash = HashToken(token);
        var share = new ReportShare
        {
            ReportId = report.Id,
            PatientAccessId = report.PatientAccessId,
            TokenHash = tokenHash,
            CodeHash = protector.ShareCodeHash(tokenHash, code),
            CreatedAt = now,
            ExpiresAt = now.AddDays(days),
            CreatedByStaffId = staffId,
            CreatedByStaffName = staffName,
            Recipient = recipient,
            ProtectedSecret = staffName is null ? null : SecretProtector.Protect(token + " " + code),
        };
        db.ReportShares.Add(share);
        return new Created(share, token, code);
    }

    /// <summary>The token and code of a staff-created share, for the outbox; null once forgotten.</summary>
    public (string Token, string Code)? Secret(ReportShare share)
    {
        if (share.ProtectedSecret is null) return null;
        var parts = SecretProtector.Unprotect(share.ProtectedSecret).Split(' ');
        return (parts[0], parts[1]);
    }

    /// <summary>The share behind <paramref name="token"/> if it is usable now; null for unknown, expired, revoked, locked or ended.</summary>
    public async Task<ReportShare?> FindValidAsync(string? token, CancellationToken ct)
    {
        if (!IsWellFormedToken(token)) return null;
        var hash = HashToken(token!);
        var now = time.GetUtcNow().UtcDateTime;
        return await Valid(now).Include(s => s.Report).SingleOrDefaultAsync(s => s.TokenHash == hash, ct);
    }

    private IQueryable<ReportShare> Valid(DateTime now) => db.ReportShares.Where(s =>
        s.RevokedAt == null && s.LockedAt == null && s.ExpiresAt > now
        && s.PatientAccess.IsActive && s.Report.IsActive && (s.Report.ExpiresAt == null || s.Report.ExpiresAt > now));

    /// <summary>
    /// Checks a typed code. The attempt is counted first (atomically, only while under the limit) and given back when
    /// the code is right, so five wrong codes lock the share whatever the concurrency.
    /// </summary>
    public async Task<CodeOutcome> CheckCodeAsync(HttpContext http, ReportShare share, string? code, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var reserved = await db.ReportShares
            .Where(s => s.Id == share.Id && s.LockedAt == null && s.FailedCodeCount < MaxCodeFailures)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.FailedCodeCount, s => s.FailedCodeCount + 1), ct);
        if (reserved == 0) return CodeOutcome.Locked;
        var computed = protector.ShareCodeHash(share.TokenHash, IsWellFormedCode(code) ? code! : "------");
        var right = IsWellFormedCode(code) && CryptographicOperations.FixedTimeEquals(computed, share.CodeHash);
        if (right)
        {
            await db.ReportShares.Where(s => s.Id == share.Id)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.FailedCodeCount, s => s.FailedCodeCount - 1), ct);
            Audit.Patient(db, http, now, AccessEventKinds.ShareOpen, share.PatientAccessId, share.ReportId, detail: Detail(share));
            await db.SaveChangesAsync(ct);
            WriteCookie(http.Response, share, now);
            return CodeOutcome.Ok;
        }
        await db.ReportShares.Where(s => s.Id == share.Id && s.FailedCodeCount >= MaxCodeFailures && s.LockedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.LockedAt, now), ct);
        Audit.Patient(db, http, now, AccessEventKinds.ShareCodeFailure, share.PatientAccessId, share.ReportId, detail: Detail(share));
        await db.SaveChangesAsync(ct);
        var locked = await db.ReportShares.AnyAsync(s => s.Id == share.Id && s.LockedAt != null, ct);
        return locked ? CodeOutcome.Locked : CodeOutcome.Wrong;
    }

    /// <summary>The AccessEvent detail: the share id, which the patient's history resolves to « le lien partagé du … ».</summary>
    public static string Detail(ReportShare share) => share.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Whether this request carries a doctor session for <paramref name="share"/> that has not expired.</summary>
    public bool HasSession(HttpRequest request, ReportShare share)
    {
        var value = request.Cookies[CookieName];
        if (string.IsNullOrEmpty(value) || value.Length > 500) return false;
        string plain;
        try
        {
            plain = CookieProtector.Unprotect(value);
        }
        catch (CryptographicException)
        {
            return false;
        }
        var parts = plain.Split(':');
        return parts.Length == 2 && parts[0] == Detail(share)
            && long.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var ticks)
            && ticks > time.GetUtcNow().UtcDateTime.Ticks;
    }

    /// <summary>
    /// <c>__Host-</c>, HttpOnly, Secure, bound to the share id. SameSite=Lax (not Strict): the doctor comes back to the
    /// link from a messaging app, a cross-site navigation; the cookie only unlocks GETs, the code POST has antiforgery.
    /// </summary>
    private void WriteCookie(HttpResponse response, ReportShare share, DateTime now)
    {
        var until = now + SessionLifetime < share.ExpiresAt ? now + SessionLifetime : share.ExpiresAt;
        response.Cookies.Append(CookieName, CookieProtector.Protect(Detail(share) + ":" + until.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new CookieOptions { HttpOnly = true, Secure = true, SameSite = SameSiteMode.Lax, Path = "/", IsEssential = true, MaxAge = until - now });
    }

    /// <summary>The patient's active shares (revocable), newest first.</summary>
    public async Task<IReadOnlyList<Row>> ActiveAsync(int accessId, CancellationToken ct) => await ListAsync(
        Valid(time.GetUtcNow().UtcDateTime).Where(s => s.PatientAccessId == accessId), ct);

    /// <summary>A patient's active shares, for the staff patient page.</summary>
    public async Task<IReadOnlyList<Row>> ActiveForPatientAsync(int patientId, CancellationToken ct) => await ListAsync(
        Valid(time.GetUtcNow().UtcDateTime).Where(s => s.PatientAccess.PatientId == patientId), ct);

    private static async Task<IReadOnlyList<Row>> ListAsync(IQueryable<ReportShare> q, CancellationToken ct) => await q.AsNoTracking()
        .OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.Id)
        .Select(s => new Row(s.Id, s.ReportId, s.Report.Title, s.CreatedAt, s.ExpiresAt, s.CreatedByStaffName != null, s.Recipient))
        .ToListAsync(ct);

    /// <summary>Revokes the share <paramref name="shareId"/> if it belongs to <paramref name="accessId"/>; false otherwise (404).</summary>
    public async Task<bool> RevokeAsync(int accessId, int shareId, string by, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var n = await db.ReportShares.Where(s => s.Id == shareId && s.PatientAccessId == accessId && s.RevokedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.RevokedAt, now).SetProperty(s => s.RevokedBy, by), ct);
        return n > 0;
    }

    /// <summary>Ends every open share of the access now (deactivation, regeneration): they stay ended if it reopens.</summary>
    public static Task<int> EndForAccessAsync(CimefDb db, int accessId, DateTime now, string reason, CancellationToken ct) =>
        db.ReportShares.Where(s => s.PatientAccessId == accessId && s.RevokedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.RevokedAt, now).SetProperty(s => s.RevokedBy, reason), ct);

    /// <summary>Ends the report's open shares in the caller's unit of work (withdrawal): a republished report is not shared again.</summary>
    public static void EndForReport(CimefDb db, int reportId, DateTime now)
    {
        foreach (var share in db.ReportShares.Where(s => s.ReportId == reportId && s.RevokedAt == null).ToList())
        {
            share.RevokedAt = now;
            share.RevokedBy = "withdrawn";
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
