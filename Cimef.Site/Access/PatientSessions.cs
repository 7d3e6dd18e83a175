using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Cimef.Site.Api;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Dapper;
using Htmx;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Access;

/// <summary>
/// Patient sessions (DESIGN §5): the <c>__Host-cimef_patient</c> cookie carries a random session id, the
/// PatientSession table only its SHA-256. Idle timeout (Portal:SessionTimeoutMinutes), absolute cap
/// (Portal:SessionAbsoluteHours), ended by logout, deactivation and regeneration.
/// </summary>
public sealed class PatientSessions(CimefDb db, IOptions<PortalOptions> options, TimeProvider time)
{
    public const string CookieName = "__Host-cimef_patient";
    public const string AccessIdClaim = "cimef:access_id";
    public const string PatientIdClaim = "cimef:patient_id";
    public const string SessionIdClaim = "cimef:session_id";

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Adds a new session row to the unit of work and returns the raw id for the cookie.</summary>
    public string Start(PatientAccess access, string clientIp)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        db.PatientSessions.Add(new PatientSession
        {
            TokenHash = Hash(token),
            PatientAccess = access,
            CreatedAt = now,
            LastSeenAt = now,
            ExpiresAt = now.AddHours(options.Value.SessionAbsoluteHours),
            ClientIp = clientIp.Length <= 45 ? clientIp : clientIp[..45],
        });
        return token;
    }

    public static void WriteCookie(HttpResponse response, string token) =>
        response.Cookies.Append(CookieName, token, CookieOptions());

    public static void DeleteCookie(HttpResponse response) => response.Cookies.Delete(CookieName, CookieOptions());

    private static CookieOptions CookieOptions() => new()
    {
        HttpOnly = true,
        Secure = true,
        SameSite = SameSiteMode.Strict,
        Path = "/",
        IsEssential = true,
    };

    /// <summary>
    /// Logout (the page and the JSON API): ends the session the cookie names, so a replayed cookie is refused
    /// afterwards, audits it, and forgets the cookie.
    /// </summary>
    public async Task LogoutAsync(HttpContext http)
    {
        var token = http.Request.Cookies[CookieName];
        var hash = string.IsNullOrEmpty(token) || token.Length > 100 ? null : Hash(token);
        var session = hash is null ? null : await db.PatientSessions.SingleOrDefaultAsync(s => s.TokenHash == hash && s.EndedAt == null, http.RequestAborted);
        if (session is not null)
        {
            var now = time.GetUtcNow().UtcDateTime;
            session.EndedAt = now;
            session.EndReason = "logout";
            Auditing.Audit.Patient(db, http, now, AccessEventKinds.Logout, session.PatientAccessId);
            await db.SaveChangesAsync(http.RequestAborted);
        }
        DeleteCookie(http.Response);
        http.Response.Headers.CacheControl = "no-store";
    }

    /// <summary>The session behind a raw cookie value, if it is still valid; slides LastSeenAt at most once a minute.</summary>
    public async Task<(int SessionId, int AccessId, int PatientId)?> ValidateAsync(string token, CancellationToken ct = default)
    {
        if (token.Length is < 20 or > 100) return null;
        var hash = Hash(token);
        var now = time.GetUtcNow().UtcDateTime;
        var idle = TimeSpan.FromMinutes(options.Value.SessionTimeoutMinutes);
        // One connection for the whole request (EF would otherwise open and close it around every query), and one
        // Dapper read on it: this runs on every patient request, so the validity rules are conditions of the query.
        await db.Database.OpenConnectionAsync(ct);
        var row = await db.Database.GetDbConnection().QueryFirstOrDefaultAsync<(long Id, long AccessId, long PatientId, long Slide)>(
            new CommandDefinition("""
                SELECT s."Id", s."PatientAccessId", a."PatientId", CASE WHEN s."LastSeenAt" <= @slideBefore THEN 1 ELSE 0 END
                FROM "PatientSessions" s JOIN "PatientAccesses" a ON a."Id" = s."PatientAccessId"
                WHERE s."TokenHash" = @hash AND s."EndedAt" IS NULL AND a."IsActive" = @active
                  AND s."ExpiresAt" > @now AND s."LastSeenAt" >= @idleSince
                """,
                new { hash, active = true, now, idleSince = now - idle, slideBefore = now - TimeSpan.FromMinutes(1) },
                cancellationToken: ct));
        if (row.Id == 0) return null;
        var sessionId = (int)row.Id;
        if (row.Slide == 1)
            await db.PatientSessions.Where(s => s.Id == sessionId).ExecuteUpdateAsync(u => u.SetProperty(s => s.LastSeenAt, now), ct);
        return (sessionId, (int)row.AccessId, (int)row.PatientId);
    }
}

/// <summary>The "Patient" authentication scheme: reads the session cookie; challenges answer each caller in its own way.</summary>
public sealed class PatientSessionHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, PatientSessions sessions)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string LoginPath = "/patient";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = Request.Cookies[PatientSessions.CookieName];
        if (string.IsNullOrEmpty(token)) return AuthenticateResult.NoResult();
        var session = await sessions.ValidateAsync(token, Context.RequestAborted);
        if (session is null) return AuthenticateResult.Fail("Session expirée ou inconnue.");
        var identity = new ClaimsIdentity(
        [
            new Claim(PatientSessions.SessionIdClaim, session.Value.SessionId.ToString()),
            new Claim(PatientSessions.AccessIdClaim, session.Value.AccessId.ToString()),
            new Claim(PatientSessions.PatientIdClaim, session.Value.PatientId.ToString()),
        ], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    /// <summary>APIs: 401 {"error"}; htmx: HX-Redirect to the login page; browsers: a redirect to it.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.CacheControl = "no-store";
        if (Request.IsApi())
        {
            await ApiJson.Error(PatientMessages.SessionRequired, StatusCodes.Status401Unauthorized).ExecuteAsync(Context);
            return;
        }
        if (Request.IsHtmx())
        {
            Response.StatusCode = StatusCodes.Status200OK;
            Response.Headers["HX-Redirect"] = LoginPath;
            return;
        }
        Response.Redirect(LoginPath);
    }
}

/// <summary>The signed-in patient, from the session only (never from a request parameter).</summary>
public static class PatientPrincipal
{
    public static int AccessId(this ClaimsPrincipal user) => int.Parse(user.FindFirstValue(PatientSessions.AccessIdClaim)!);
    public static int PatientId(this ClaimsPrincipal user) => int.Parse(user.FindFirstValue(PatientSessions.PatientIdClaim)!);
}
