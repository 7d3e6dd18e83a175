using System.Data.Common;
using Cimef.Site.Data;
using Cimef.Site.FrontDesk;
using Dapper;

namespace Cimef.Site.Access;

/// <summary>
/// The staff list of patient accesses (used by /Access and GET /api/patients/access/): status, access count,
/// last access and the login failures for the key inside the throttling window. A key is "locked" when those
/// failures reach Portal:MaxLoginAttempts (the portal login counts LoginFailure rows per normalised key).
/// </summary>
public static class AccessList
{
    public const int PageSize = 50;

    public sealed record Row(int Id, int PatientId, string FullName, string Phone, string AccessKey, bool IsActive,
        int AccessCount, DateTime? LastAccess, DateTime CreatedAt, int FailedAttempts, string? DeactivationReason)
    {
        public bool Locked(int maxAttempts) => FailedAttempts >= maxAttempts;

        public string Status(int maxAttempts) => !IsActive ? "inactive" : Locked(maxAttempts) ? "locked" : "active";
    }

    private sealed record Raw(long Id, long PatientId, string FullName, string Phone, string AccessKey, long IsActive,
        long AccessCount, DateTime? LastAccess, DateTime CreatedAt, long FailedAttempts, string? DeactivationReason);

    public static async Task<(IReadOnlyList<Row> Rows, bool HasNext)> RunAsync(DbConnection connection, string? query, string? status,
        int page, DateTime windowStart, int maxAttempts, CancellationToken ct = default)
    {
        var args = new DynamicParameters();
        args.Add("since", windowStart);
        args.Add("yes", true);
        args.Add("no", false);
        args.Add("max", maxAttempts);
        args.Add("take", PageSize + 1);
        args.Add("skip", (Math.Clamp(page, 1, 10_000) - 1) * PageSize);
        var where = new List<string>();
        var q = (query ?? "").Trim();
        if (q.Length > 0)
        {
            var key = CredentialGenerator.NormalizeKey(q);
            args.Add("key", key);
            var name = await PatientSearch.NameConditionAsync(connection, q, args, ct);
            where.Add($"""({SqlDialect.Of(connection).StartsWith("a.\"AccessKey\"", "@key")}{(name is null ? "" : " OR " + name)})""");
        }
        switch (status)
        {
            case "active": where.Add("""a."IsActive" = @yes AND f.n IS NULL"""); break;
            case "inactive": where.Add("""a."IsActive" = @no"""); break;
            case "locked": where.Add("""a."IsActive" = @yes AND f.n IS NOT NULL"""); break;
        }
        // Failures are looked up per key with the (Key, At) index; only locked keys join for the status filter.
        var sql = $"""
            SELECT a."Id", a."PatientId", p."FullName", p."Phone", a."AccessKey", a."IsActive", a."AccessCount",
                   a."LastAccess", a."CreatedAt",
                   (SELECT COUNT(*) FROM "LoginFailures" lf WHERE lf."PatientAccessId" = a."Id" AND lf."At" >= @since) AS "FailedAttempts",
                   a."DeactivationReason"
            FROM "PatientAccesses" a
            JOIN "Patients" p ON p."Id" = a."PatientId"
            LEFT JOIN (SELECT lf."PatientAccessId", COUNT(*) AS n FROM "LoginFailures" lf WHERE lf."At" >= @since AND lf."PatientAccessId" IS NOT NULL
                       GROUP BY lf."PatientAccessId" HAVING COUNT(*) >= @max) f ON f."PatientAccessId" = a."Id"
            {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
            ORDER BY p."SearchName", a."Id"
            {SqlDialect.Of(connection).Limit("@take", "@skip")}
            """;
        var raw = (await connection.QueryAsync<Raw>(new CommandDefinition(sql, args, cancellationToken: ct))).ToList();
        var rows = raw.Take(PageSize).Select(r => new Row((int)r.Id, (int)r.PatientId, r.FullName, r.Phone, r.AccessKey, r.IsActive != 0,
            (int)r.AccessCount, r.LastAccess, r.CreatedAt, (int)r.FailedAttempts, r.DeactivationReason)).ToList();
        return (rows, raw.Count > PageSize);
    }

    /// <summary>Failures for one key inside the window (the lock rule).</summary>
    public static Task<int> FailuresAsync(DbConnection connection, int accessId, DateTime windowStart, CancellationToken ct = default) =>
        connection.ExecuteScalarAsync<int>(new CommandDefinition(
            """SELECT COUNT(*) FROM "LoginFailures" WHERE "PatientAccessId" = @accessId AND "At" >= @since""",
            new { accessId, since = windowStart }, cancellationToken: ct));
}
