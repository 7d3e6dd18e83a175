using System.Globalization;
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
public sealed class PatientSessions(CimefDb db, IOptions<PortalOptions> options, SqliteWriteGate gate, TimeProvider time, Web.ClinicClock clock)
{
    public const string CookieName = "__Host-cimef_patient";
    public const string AccessIdClaim = "cimef:access_id";
    public const string PatientIdClaim = "cimef:patient_id";
    public const string SessionIdClaim = "cimef:session_id";

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>
    /// Adds a new session row to the unit of work and returns the raw id for the cookie; <paramref name="deviceHash"/>
    /// names the phone it was opened from (<see cref="PhoneCookies.Phone.DeviceHash"/>).
    /// </summary>
    public string Start(PatientAccess access, string clientIp, string deviceHash)
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
            DeviceHash = deviceHash,
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

    /// <summary>A valid session, with the profile the dashboard shows (read with it at no extra cost).</summary>
    public sealed record Session(int SessionId, int AccessId, int PatientId, Profile Profile);

    public sealed record Profile(string FullName, string Phone, int AccessCount, DateTime? LastAccess, string? Language);

    private sealed record SessionRow(long Id, long AccessId, long PatientId, long Slide, string FullName, string Phone, long AccessCount, DateTime? LastAccess, string? Language);

    private sealed record ReportRow(long Id, string Title, DateTime CreatedAt, string ContentType, long Size, long DownloadCount, string Integrity);

    /// <summary>The conditions of a valid session (s = the session, a = its access), shared by both statements below.</summary>
    private const string Valid = """
        s."TokenHash" = @hash AND s."EndedAt" IS NULL AND a."IsActive" = @active AND s."ExpiresAt" > @now AND s."LastSeenAt" >= @idleSince
        """;

    private const string SessionSql = $"""
        SELECT s."Id", s."PatientAccessId" AS "AccessId", a."PatientId", CASE WHEN s."LastSeenAt" <= @slideBefore THEN 1 ELSE 0 END AS "Slide",
               p."FullName", p."Phone", a."AccessCount", a."LastAccess", p."Language"
        FROM "PatientSessions" s JOIN "PatientAccesses" a ON a."Id" = s."PatientAccessId" JOIN "Patients" p ON p."Id" = a."PatientId"
        WHERE {Valid};
        """;

    /// <summary><see cref="PatientReportFiles.AvailableAsync"/>'s list, for the session's patient.</summary>
    private const string ReportsSql = $"""
        SELECT r."Id", r."Title", r."CreatedAt", r."ContentType", r."Size", r."DownloadCount", r."Integrity"
        FROM "PatientReports" r JOIN "PatientSessions" s ON s."PatientAccessId" = r."PatientAccessId" JOIN "PatientAccesses" a ON a."Id" = s."PatientAccessId"
        WHERE {Valid} AND r."IsActive" = @active AND (r."ExpiresAt" IS NULL OR r."ExpiresAt" > @now)
        ORDER BY r."CreatedAt" DESC, r."Id" DESC;
        """;

    /// <summary>
    /// Light on data (issue 15): the bytes of the session's patient's downloads since the clinic month began — each
    /// "download" event (a GET from byte 0, page or API) counts its report's size; Range continuations add nothing.
    /// Answered by the AccessEvents (PatientAccessId, Kind, At, ReportId) index: a range of this patient's downloads of
    /// the month only (index-only), never every patient's downloads (the (Kind, At, …) index) nor every event of this
    /// patient's month (the (PatientAccessId, At) index; measured: the dashboard at half its throughput after a bench
    /// had given each session a thousand list views).
    /// </summary>
    private const string MonthSql = $"""
        SELECT CAST(COALESCE(SUM(r."Size"), 0) AS BIGINT)
        FROM "AccessEvents" e JOIN "PatientReports" r ON r."Id" = e."ReportId" AND r."PatientAccessId" = e."PatientAccessId"
        JOIN "PatientSessions" s ON s."PatientAccessId" = e."PatientAccessId" JOIN "PatientAccesses" a ON a."Id" = s."PatientAccessId"
        WHERE {Valid} AND e."Kind" = @download AND e."At" >= @monthStart;
        """;

    /// <summary>
    /// The session behind a raw cookie value, if it is still valid; slides LastSeenAt at most once a minute (the idle
    /// rule stays exact to the minute: a session seen within the last minute has at least 29 of its 30 minutes left).
    /// With <paramref name="withReports"/>, the same command also reads the patient's available reports and this month's
    /// downloaded bytes (the dashboard's data in one round trip); they are null when the session is not valid.
    /// </summary>
    public async Task<(Session Session, PatientDashboardData? Dashboard)?> ValidateAsync(string token, bool withReports = false, CancellationToken ct = default)
    {
        if (token.Length is < 20 or > 100) return null;
        var hash = Hash(token);
        var now = time.GetUtcNow().UtcDateTime;
        var idle = TimeSpan.FromMinutes(options.Value.SessionTimeoutMinutes);
        // One connection for the whole request (EF would otherwise open and close it around every query), and one
        // Dapper command on it: this runs on every patient request, so the validity rules are conditions of the query.
        await db.Database.OpenConnectionAsync(ct);
        var today = clock.DayOf(now);
        var args = new
        {
            hash, active = true, now, idleSince = now - idle, slideBefore = now - TimeSpan.FromMinutes(1),
            download = AccessEventKinds.Download, monthStart = clock.DayStartUtc(new DateOnly(today.Year, today.Month, 1)),
        };
        SessionRow? row;
        IReadOnlyList<PatientReportFiles.Row>? reports = null;
        long monthBytes = 0;
        var conn = db.Database.GetDbConnection();
        if (withReports)
        {
            await using var results = await conn.QueryMultipleAsync(new CommandDefinition(SessionSql + ReportsSql + MonthSql, args, cancellationToken: ct));
            row = await results.ReadFirstOrDefaultAsync<SessionRow>();
            reports = (await results.ReadAsync<ReportRow>()).Select(r => new PatientReportFiles.Row((int)r.Id, r.Title, r.CreatedAt, r.ContentType,
                r.Size, (int)r.DownloadCount, Enum.Parse<FileIntegrity>(r.Integrity))).ToList();
            monthBytes = await results.ReadSingleAsync<long>();
        }
        else row = await conn.QueryFirstOrDefaultAsync<SessionRow>(new CommandDefinition(SessionSql, args, cancellationToken: ct));
        if (row is null) return null;
        var sessionId = (int)row.Id;
        if (row.Slide == 1)
            using (await gate.EnterAsync(db, ct))
                await conn.ExecuteAsync(new CommandDefinition("""UPDATE "PatientSessions" SET "LastSeenAt" = @now WHERE "Id" = @sessionId""",
                new { now, sessionId }, cancellationToken: ct));
        var session = new Session(sessionId, (int)row.AccessId, (int)row.PatientId, new Profile(row.FullName, row.Phone, (int)row.AccessCount, row.LastAccess, row.Language));
        return (session, reports is null ? null : new PatientDashboardData(session.Profile, reports, monthBytes));
    }
}

/// <summary>
/// On a page model or endpoint: the patient authentication reads the session's available reports in the same
/// database round trip as the session check (<see cref="PatientSessions.ValidateAsync"/>) and leaves them, with the
/// profile, in <see cref="PatientDashboardData"/> (an HttpContext feature).
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ReadsPatientReportsAttribute : Attribute;

/// <summary>
/// The signed-in patient's profile, available reports and bytes downloaded this clinic month, read with the session
/// (see <see cref="ReadsPatientReportsAttribute"/>).
/// </summary>
public sealed record PatientDashboardData(PatientSessions.Profile Profile, IReadOnlyList<PatientReportFiles.Row> Reports, long MonthDownloadedBytes);

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
        var withReports = Context.GetEndpoint()?.Metadata.GetMetadata<ReadsPatientReportsAttribute>() is not null;
        var validated = await sessions.ValidateAsync(token, withReports, Context.RequestAborted);
        if (validated is not { Session: var session, Dashboard: var dashboard }) return AuthenticateResult.Fail("Session expirée ou inconnue.");
        if (dashboard is not null) Context.Features.Set(dashboard);
        var identity = new ClaimsIdentity(
        [
            new Claim(PatientSessions.SessionIdClaim, session.SessionId.ToString(CultureInfo.InvariantCulture)),
            new Claim(PatientSessions.AccessIdClaim, session.AccessId.ToString(CultureInfo.InvariantCulture)),
            new Claim(PatientSessions.PatientIdClaim, session.PatientId.ToString(CultureInfo.InvariantCulture)),
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
