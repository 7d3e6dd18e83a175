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
using Cimef.Site.Reports;

namespace Cimef.Site.Portal;

/// <summary>
/// Patient sessions (DESIGN §5): the <c>__Host-cimef_patient</c> cookie carries a random session id, the
/// PatientSession table only its SHA-256. Idle timeout (Portal:SessionTimeoutMinutes), absolute cap
/// (Portal:SessionAbsoluteHours), ended by logout, deactivation and regeneration.
/// </summary>
public sealed class PatientSessions(IServiceProvider services, IOptions<PortalOptions> options, SqliteWriteGate gate, TimeProvider time, Web.ClinicClock clock, HotQueries queries, MonthlyDownloads monthly)
{
    public const string CookieName = "__Host-cimef_patient";

    /// <summary>The request's context, built only when used: the session check on SQLite never needs it.</summary>
    private CimefDb db => field ??= services.GetRequiredService<CimefDb>();
    public const string AccessIdClaim = "cimef:access_id";
    public const string PatientIdClaim = "cimef:patient_id";
    public const string SessionIdClaim = "cimef:session_id";

    /// <summary>The absolute cap of a session from its start; a phone's offline copies open no longer than that after a login.</summary>
    public TimeSpan AbsoluteLifetime => TimeSpan.FromHours(options.Value.SessionAbsoluteHours);

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>
    /// Inserts a new session in the caller's write transaction and returns the raw id for the cookie;
    /// <paramref name="deviceHash"/> names the phone it was opened from (<see cref="PhoneCookies.Phone.DeviceHash"/>).
    /// </summary>
    public async Task<string> StartAsync(HotQueries.Commands c, int accessId, string clientIp, string deviceHash, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await c.ExecuteAsync(StartSql, cmd =>
        {
            HotQueries.Add(cmd, "hash", Hash(token));
            HotQueries.Add(cmd, "access", accessId);
            HotQueries.Add(cmd, "now", now);
            HotQueries.Add(cmd, "expires", now + AbsoluteLifetime);
            HotQueries.Add(cmd, "ip", clientIp.Length <= 45 ? clientIp : clientIp[..45]);
            HotQueries.Add(cmd, "device", deviceHash);
        }, ct);
        return token;
    }

    private const string StartSql = """
        INSERT INTO "PatientSessions" ("TokenHash", "PatientAccessId", "CreatedAt", "LastSeenAt", "ExpiresAt", "ClientIp", "DeviceHash")
        VALUES (@hash, @access, @now, @now, @expires, @ip, @device)
        """;

    public static void WriteCookie(HttpResponse response, string token) =>
        response.Cookies.Append(CookieName, token, CookieOptions());

    public static void DeleteCookie(HttpResponse response) => response.Cookies.Delete(CookieName, CookieOptions());

    private static CookieOptions CookieOptions() => Web.HostCookies.Options();

    /// <summary>
    /// Logout (the page and the JSON API): ends the session the cookie names, so a replayed cookie is refused
    /// afterwards, audits it, and forgets the cookie.
    /// </summary>
    public async Task LogoutAsync(HttpContext http)
    {
        var token = http.Request.Cookies[CookieName];
        if (!string.IsNullOrEmpty(token) && token.Length <= 100)
        {
            var hash = Hash(token);
            var now = time.GetUtcNow().UtcDateTime;
            // One write transaction on compiled statements (HotQueries): the session's end and its event, together.
            await queries.WriteAsync(() => db, async c =>
            {
                var accessId = await c.ReadAsync(EndSql, cmd =>
                {
                    HotQueries.Add(cmd, "hash", hash);
                    HotQueries.Add(cmd, "now", now);
                    HotQueries.Add(cmd, "reason", "logout");
                }, async r => await r.ReadAsync(http.RequestAborted) ? (int?)HotQueries.Long(r, 0) : null, http.RequestAborted);
                if (accessId is int id) await Auditing.Audit.InsertAsync(c, Auditing.Audit.PatientEvent(http, now, AccessEventKinds.Logout, id), http.RequestAborted);
                return accessId;
            }, http.RequestAborted);
        }
        DeleteCookie(http.Response);
        http.Response.Headers.CacheControl = "no-store";
    }

    /// <summary>Ends the open session a token names; returns its access (no row: nothing to end).</summary>
    private const string EndSql = """
        UPDATE "PatientSessions" SET "EndedAt" = @now, "EndReason" = @reason
        WHERE "TokenHash" = @hash AND "EndedAt" IS NULL
        RETURNING "PatientAccessId"
        """;

    /// <summary>A valid session, with the profile the dashboard shows (read with it at no extra cost).</summary>
    public sealed record Session(int SessionId, int AccessId, int PatientId, Profile Profile);

    public sealed record Profile(string FullName, string Phone, int AccessCount, DateTime? LastAccess, string? Language);

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

    /// <summary>The session's patient's active, unexpired reports, newest first (the dashboard's and the JSON API's list).</summary>
    private const string ReportsSql = $"""
        SELECT r."Id", r."Title", r."CreatedAt", r."ContentType", r."Size", r."DownloadCount", r."Integrity"
        FROM "PatientReports" r JOIN "PatientSessions" s ON s."PatientAccessId" = r."PatientAccessId" JOIN "PatientAccesses" a ON a."Id" = s."PatientAccessId"
        WHERE {Valid} AND r."IsActive" = @active AND (r."ExpiresAt" IS NULL OR r."ExpiresAt" > @now)
        ORDER BY r."CreatedAt" DESC, r."Id" DESC;
        """;

    /// <summary>
    /// Light on data: the bytes of the session's patient's downloads since the clinic month began — each
    /// "download" event (a GET from byte 0, page or API) counts its report's size; Range continuations add nothing.
    /// Answered by the AccessEvents (PatientAccessId, Kind, At, ReportId) index: a range of this patient's downloads of
    /// the month only (index-only), never every patient's downloads (the (Kind, At, …) index) nor every event of this
    /// patient's month (the (PatientAccessId, At) index; measured: the dashboard at half its throughput after a bench
    /// had given each session a thousand list views). Run only when the total can have changed (<see cref="MonthlyDownloads"/>).
    /// </summary>
    private const string MonthSql = """
        SELECT CAST(COALESCE(SUM(r."Size"), 0) AS BIGINT)
        FROM "AccessEvents" e JOIN "PatientReports" r ON r."Id" = e."ReportId" AND r."PatientAccessId" = e."PatientAccessId"
        WHERE e."PatientAccessId" = @access AND e."Kind" = @download AND e."At" >= @monthStart;
        """;

    /// <summary>
    /// The session behind a raw cookie value, if it is still valid; slides LastSeenAt at most once a minute (the idle
    /// rule stays exact to the minute: a session seen within the last minute has at least 29 of its 30 minutes left).
    /// <paramref name="reads"/> adds, in the same command, the patient's available reports: one round trip, its
    /// statements compiled once (<see cref="HotQueries"/>); for the dashboard, this month's downloaded bytes, kept
    /// between views (<see cref="MonthlyDownloads"/>). They are null when the session is not valid.
    /// </summary>
    public async Task<(Session Session, PatientDashboardData? Dashboard)?> ValidateAsync(string token, PatientReads reads = PatientReads.Session, CancellationToken ct = default)
    {
        if (token.Length is < 20 or > 100) return null;
        var hash = Hash(token);
        var now = time.GetUtcNow().UtcDateTime;
        var idle = TimeSpan.FromMinutes(options.Value.SessionTimeoutMinutes);
        var sql = reads == PatientReads.Session ? SessionSql : ReportsListSql;
        var found = await queries.ReadAsync(() => db, sql, cmd =>
        {
            HotQueries.Add(cmd, "hash", hash);
            HotQueries.Add(cmd, "active", true);
            HotQueries.Add(cmd, "now", now);
            HotQueries.Add(cmd, "idleSince", now - idle);
            HotQueries.Add(cmd, "slideBefore", now - TimeSpan.FromMinutes(1));
        }, r => ReadAsync(r, reads, ct), ct);
        if (found is not { } f) return null;
        long monthBytes = 0;
        if (reads == PatientReads.Dashboard) monthBytes = await MonthBytesAsync(f.Session.AccessId, f.Reports!, now, ct);
        if (f.Slide)
        {
            await db.Database.OpenConnectionAsync(ct); // EF's open applies the connection's pragmas
            using (await gate.EnterAsync(db, ct))
                await db.Database.GetDbConnection().ExecuteAsync(new CommandDefinition(
                    """UPDATE "PatientSessions" SET "LastSeenAt" = @now WHERE "Id" = @sessionId""", new { now, sessionId = f.Session.SessionId }, cancellationToken: ct));
        }
        return (f.Session, f.Reports is null ? null : new PatientDashboardData(f.Session.Profile, f.Reports, monthBytes));
    }

    private const string ReportsListSql = SessionSql + ReportsSql;

    /// <summary>This clinic month's downloaded bytes, counted from the events again only when it can have changed (<see cref="MonthlyDownloads"/>).</summary>
    private async Task<long> MonthBytesAsync(int accessId, IReadOnlyList<PatientReportFiles.Row> reports, DateTime now, CancellationToken ct)
    {
        var today = clock.DayOf(now);
        var monthStart = clock.DayStartUtc(new DateOnly(today.Year, today.Month, 1));
        var key = MonthlyDownloads.KeyOf(monthStart, reports);
        if (monthly.TryGet(accessId, key, out var bytes)) return bytes;
        bytes = await queries.ReadAsync(() => db, MonthSql, cmd =>
        {
            HotQueries.Add(cmd, "access", accessId);
            HotQueries.Add(cmd, "download", AccessEventKinds.Download);
            HotQueries.Add(cmd, "monthStart", monthStart);
        }, async r => await r.ReadAsync(ct) ? HotQueries.Long(r, 0) : 0, ct);
        monthly.Keep(accessId, key, bytes);
        return bytes;
    }

    private static async Task<(Session Session, bool Slide, IReadOnlyList<PatientReportFiles.Row>? Reports)?> ReadAsync(
        System.Data.Common.DbDataReader r, PatientReads reads, CancellationToken ct)
    {
        if (!await r.ReadAsync(ct)) return null;
        var session = new Session((int)HotQueries.Long(r, 0), (int)HotQueries.Long(r, 1), (int)HotQueries.Long(r, 2), new Profile(
            r.GetString(4), r.GetString(5), (int)HotQueries.Long(r, 6), HotQueries.NullableDate(r, 7), HotQueries.NullableString(r, 8)));
        var slide = HotQueries.Long(r, 3) == 1;
        if (reads == PatientReads.Session) return (session, slide, null);
        await r.NextResultAsync(ct);
        var reports = new List<PatientReportFiles.Row>();
        while (await r.ReadAsync(ct))
            reports.Add(new PatientReportFiles.Row((int)HotQueries.Long(r, 0), r.GetString(1), HotQueries.Date(r, 2), r.GetString(3),
                HotQueries.Long(r, 4), (int)HotQueries.Long(r, 5), Enum.Parse<FileIntegrity>(r.GetString(6))));
        return (session, slide, reports);
    }
}

/// <summary>What the patient authentication reads with the session check (<see cref="PatientSessions.ValidateAsync"/>).</summary>
public enum PatientReads
{
    Session,
    /// <summary>+ the available reports (the JSON list).</summary>
    Reports,
    /// <summary>+ the available reports and this month's downloaded bytes (the dashboard).</summary>
    Dashboard,
}

/// <summary>
/// On a page model or endpoint: the patient authentication reads the session's available reports in the same
/// database round trip as the session check (<see cref="PatientSessions.ValidateAsync"/>) and leaves them, with the
/// profile, in <see cref="PatientDashboardData"/> (an HttpContext feature).
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ReadsPatientReportsAttribute(PatientReads reads = PatientReads.Dashboard) : Attribute
{
    public PatientReads Reads { get; } = reads;
}

/// <summary>
/// The signed-in patient's profile, available reports and bytes downloaded this clinic month, read with the session
/// (see <see cref="ReadsPatientReportsAttribute"/>).
/// </summary>
public sealed record PatientDashboardData(PatientSessions.Profile Profile, IReadOnlyList<PatientReportFiles.Row> Reports, long MonthDownloadedBytes);

/// <summary>The signed-in patient, from the session only (never from a request parameter).</summary>
public static class PatientPrincipal
{
    public static int AccessId(this ClaimsPrincipal user) => int.Parse(user.FindFirstValue(PatientSessions.AccessIdClaim)!);
    public static int PatientId(this ClaimsPrincipal user) => int.Parse(user.FindFirstValue(PatientSessions.PatientIdClaim)!);
}
