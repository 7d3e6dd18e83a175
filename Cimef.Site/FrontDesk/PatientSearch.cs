using System.Data.Common;
using Cimef.Site.Access;
using Cimef.Site.Data;
using Dapper;

namespace Cimef.Site.FrontDesk;

/// <summary>
/// Staff patient search shared by /Patients, GET /api/patients/ and the report upload page: one query string matched against the
/// name (accent-free, contains), the phone (prefix of the international form), the access key and the
/// invoice number. Index-friendly: phone, key and invoice number are prefix conditions (SqlDialect.StartsWith: index ranges on SQLite).
/// A name matched by many patients walks the SearchName index in order and stops after one page; a rare name
/// (or one nobody has) is looked up in the trigram name index instead, so it never scans every patient.
/// Search boxes that list something else by patient name (invoices, accesses) use <see cref="NameConditionAsync"/>.
/// </summary>
public static class PatientSearch
{
    public const int PageSize = 25;

    /// <summary>From this many matches on, walking the SearchName index finds a page sooner than sorting every match.</summary>
    private const int DenseNameMatches = 500;

    /// <summary>A patient found; Id and the access flag come back as long/bool or int/boolean depending on the engine (mapped by name).</summary>
    public sealed record Row(long Id, string FullName, string Phone, string? Email, DateOnly? DateOfBirth, bool? AccessActive);

    public sealed record Page(IReadOnlyList<Row> Rows, bool HasNext, int PageNumber);

    public static async Task<Page> RunAsync(DbConnection connection, string? query, int page, CancellationToken ct = default)
    {
        page = Math.Clamp(page, 1, 10_000);
        var q = (query ?? "").Trim();
        if (q.Length > 100) q = q[..100];
        var args = new DynamicParameters();
        args.Add("take", PageSize + 1);
        args.Add("skip", (page - 1) * PageSize);
        var where = Where(SqlDialect.Of(connection), q, args, await NameConditionAsync(connection, q, args, ct), out var byPhone);

        var sql = $"""
            SELECT p."Id", p."FullName", p."Phone", p."Email", p."DateOfBirth", a."IsActive" AS "AccessActive"
            FROM "Patients" p LEFT JOIN "PatientAccesses" a ON a."PatientId" = p."Id"
            {where}
            ORDER BY {(byPhone ? "p.\"Phone\"" : "p.\"SearchName\"")}, p."Id"
            {SqlDialect.Of(connection).Limit("@take", "@skip")}
            """;
        var rows = (await connection.QueryAsync<Row>(new CommandDefinition(sql, args, cancellationToken: ct))).ToList();
        var hasNext = rows.Count > PageSize;
        if (hasNext) rows.RemoveAt(rows.Count - 1);
        return new Page(rows, hasNext, page);
    }

    /// <summary>
    /// The condition on patients (alias p) whose name contains the term, its parameters added to <paramref name="args"/>;
    /// null when the term names nobody (empty, or a phone number). A term long enough for the trigram index is asked there
    /// first, stopping at <see cref="DenseNameMatches"/>: fewer, and the condition is the @nameIds list, so the query reads
    /// only those rows; more, and it is a LIKE on SearchName, whose ordered index walk finds a page sooner.
    /// </summary>
    public static async Task<string?> NameConditionAsync(DbConnection connection, string q, DynamicParameters args, CancellationToken ct = default)
    {
        var name = Web.Text.SearchForm(q);
        if (IsPhoneLike(q) || name.Length == 0) return null;
        var dialect = SqlDialect.Of(connection);
        if (name.Length >= SqlDialect.NameIndexMinLength)
        {
            var ids = (await connection.QueryAsync<long>(new CommandDefinition(
                $"{dialect.PatientIdsWithNameContaining("@phrase")} {dialect.Limit("@cap")}",
                new { phrase = dialect.NameIndexPhrase(name), cap = DenseNameMatches }, cancellationToken: ct))).ToList();
            if (ids.Count < DenseNameMatches)
            {
                args.Add("nameIds", ids);
                return dialect.InList("p.\"Id\"", "@nameIds");
            }
        }
        args.Add("name", SqlDialect.ContainsPattern(name));
        return dialect.Contains("p.\"SearchName\"", "@name");
    }

    private static bool IsPhoneLike(string q) => q.All(c => char.IsAsciiDigit(c) || c is ' ' or '+' or '-' or '.');

    /// <summary>The WHERE clause; <paramref name="byPhone"/> says the rows should come in phone order (the phone index answers it).</summary>
    private static string Where(SqlDialect dialect, string q, DynamicParameters args, string? nameCondition, out bool byPhone)
    {
        byPhone = false;
        if (q.Length == 0) return "";
        var conditions = new List<string>();

        if (q.StartsWith("FAC", StringComparison.OrdinalIgnoreCase))
        {
            var number = q.ToUpperInvariant();
            args.Add("invoice", number);
            conditions.Add($"""p."Id" IN (SELECT i."PatientId" FROM "Invoices" i WHERE {dialect.StartsWith("i.\"Number\"", "@invoice")})""");
        }

        var digits = new string(q.Where(char.IsAsciiDigit).ToArray());
        var phoneLike = IsPhoneLike(q);
        if (phoneLike && digits.Length >= 2)
        {
            // One prefix of the international form: "+221 70…", "0022170…", "22170…" and "70…" all become "+22170…".
            var international = q.TrimStart().StartsWith('+') ? "+" + digits
                : digits.StartsWith("00") ? "+" + digits[2..]
                : digits.StartsWith("221") && digits.Length > 3 ? "+" + digits
                : "+221" + digits;
            args.Add("tel", international);
            conditions.Add(dialect.StartsWith("p.\"Phone\"", "@tel"));
        }

        var key = CredentialGenerator.NormalizeKey(q);
        if (key.Length >= 4 && key.All(c => c is >= 'A' and <= 'Z' or >= '0' and <= '9') && !phoneLike)
        {
            args.Add("key", key);
            conditions.Add($"""p."Id" IN (SELECT k."PatientId" FROM "PatientAccesses" k WHERE {dialect.StartsWith("k.\"AccessKey\"", "@key")})""");
        }

        byPhone = phoneLike && digits.Length >= 2 && conditions.Count == 1;
        if (nameCondition is not null) conditions.Add(nameCondition);

        return conditions.Count == 0 ? "WHERE 1 = 0" : "WHERE " + string.Join(" OR ", conditions);
    }
}
