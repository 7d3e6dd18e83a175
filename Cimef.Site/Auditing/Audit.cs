using System.Security.Claims;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;

namespace Cimef.Site.Auditing;

/// <summary>
/// Adds append-only audit and access-event rows to the current unit of work, so they commit
/// (or roll back) together with the change they describe. Never pass a password or a full key.
/// </summary>
public static class Audit
{
    public static AuditEntry Staff(CimefDb db, ClaimsPrincipal? user, DateTime at, string action, string entityType, object? entityId, string? detail = null)
        => Staff(db, user?.FindFirstValue(ClaimTypes.NameIdentifier), user?.Identity?.Name, at, action, entityType, entityId, detail);

    public static AuditEntry Staff(CimefDb db, string? userId, string? userName, DateTime at, string action, string entityType, object? entityId, string? detail = null)
    {
        var entry = StaffEntry(userId, userName, at, action, entityType, entityId, detail);
        db.AuditEntries.Add(entry);
        return entry;
    }

    /// <summary>The same entry, not yet added to any unit of work (for <see cref="AccessEventBatch"/>).</summary>
    public static AuditEntry StaffEntry(ClaimsPrincipal? user, DateTime at, string action, string entityType, object? entityId, string? detail = null)
        => StaffEntry(user?.FindFirstValue(ClaimTypes.NameIdentifier), user?.Identity?.Name, at, action, entityType, entityId, detail);

    public static AuditEntry StaffEntry(string? userId, string? userName, DateTime at, string action, string entityType, object? entityId, string? detail = null) => new()
    {
        At = at,
        UserId = userId,
        UserName = Truncate(userName, 256) ?? "système",
        Action = action,
        EntityType = Truncate(entityType, 40)!,
        EntityId = Truncate(entityId?.ToString(), 40),
        Detail = Truncate(detail, 500),
    };

    public static AccessEvent Patient(CimefDb db, HttpContext? http, DateTime at, string kind, int? accessId, int? reportId = null, string? keySuffix = null, string? detail = null)
    {
        var ev = PatientEvent(http, at, kind, accessId, reportId, keySuffix, detail);
        db.AccessEvents.Add(ev);
        return ev;
    }

    /// <summary>The same event, not yet added to any unit of work (for <see cref="AccessEventBatch"/>).</summary>
    public static AccessEvent PatientEvent(HttpContext? http, DateTime at, string kind, int? accessId, int? reportId = null, string? keySuffix = null, string? detail = null)
    {
        return new AccessEvent
        {
            At = at,
            Kind = kind,
            PatientAccessId = accessId,
            ReportId = reportId,
            KeySuffix = string.IsNullOrEmpty(keySuffix) ? null : Access.CredentialGenerator.Suffix(keySuffix),
            ClientIp = http?.Connection.RemoteIpAddress?.ToString(),
            UserAgent = Truncate(http?.Request.Headers.UserAgent.ToString(), 200),
            Detail = Truncate(detail, 200),
        };
    }

    private const string InsertEventSql = """
        INSERT INTO "AccessEvents" ("At", "Kind", "PatientAccessId", "ReportId", "KeySuffix", "ClientIp", "UserAgent", "Detail")
        VALUES (@at, @kind, @access, @report, @suffix, @ip, @agent, @detail)
        """;

    /// <summary>Writes the event in a hot write transaction (<see cref="Data.HotQueries.WriteAsync{T}"/>).</summary>
    public static Task<int> InsertAsync(Data.HotQueries.Commands c, AccessEvent ev, CancellationToken ct) =>
        c.ExecuteAsync(InsertEventSql, cmd =>
        {
            Data.HotQueries.Add(cmd, "at", ev.At);
            Data.HotQueries.Add(cmd, "kind", ev.Kind);
            Data.HotQueries.Add(cmd, "access", ev.PatientAccessId);
            Data.HotQueries.Add(cmd, "report", ev.ReportId);
            Data.HotQueries.Add(cmd, "suffix", ev.KeySuffix);
            Data.HotQueries.Add(cmd, "ip", ev.ClientIp);
            Data.HotQueries.Add(cmd, "agent", ev.UserAgent);
            Data.HotQueries.Add(cmd, "detail", ev.Detail);
        }, ct);

    private const string InsertEntrySql = """
        INSERT INTO "AuditEntries" ("At", "UserId", "UserName", "Action", "EntityType", "EntityId", "Detail")
        VALUES (@at, @user, @name, @action, @type, @entity, @detail)
        """;

    /// <summary>Writes the entry in a hot write transaction (<see cref="Data.HotQueries.WriteAsync{T}"/>).</summary>
    public static Task<int> InsertAsync(Data.HotQueries.Commands c, AuditEntry entry, CancellationToken ct) =>
        c.ExecuteAsync(InsertEntrySql, cmd =>
        {
            Data.HotQueries.Add(cmd, "at", entry.At);
            Data.HotQueries.Add(cmd, "user", entry.UserId);
            Data.HotQueries.Add(cmd, "name", entry.UserName);
            Data.HotQueries.Add(cmd, "action", entry.Action);
            Data.HotQueries.Add(cmd, "type", entry.EntityType);
            Data.HotQueries.Add(cmd, "entity", entry.EntityId);
            Data.HotQueries.Add(cmd, "detail", entry.Detail);
        }, ct);

    private static string? Truncate(string? s, int max) =>
        string.IsNullOrEmpty(s) ? s : s.Length <= max ? s : s[..max];
}
