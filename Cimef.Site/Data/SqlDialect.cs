namespace Cimef.Site.Data;

/// <summary>
/// The SQL fragments that differ between database engines, in one place (SQLite today). Timestamps are stored
/// as ISO text 'yyyy-MM-dd HH:mm:ss…' in UTC, so range conditions on the raw column keep using its index.
/// </summary>
public static class SqlDialect
{
    /// <summary>At most <paramref name="take"/> rows, after skipping <paramref name="skip"/> (SQLite's LIMIT … OFFSET …).</summary>
    public static string Limit(string take, string? skip = null) => skip is null ? $"LIMIT {take}" : $"LIMIT {take} OFFSET {skip}";

    /// <summary><paramref name="column"/> is one of the list parameter's values (Dapper expands IN @list on SQLite; = ANY(@list) elsewhere).</summary>
    public static string InList(string column, string listParameter) => $"{column} IN {listParameter}";

    /// <summary>
    /// <paramref name="column"/> contains the text given to <see cref="ContainsPattern"/>. Columns compared this way hold
    /// a lower-case search form, so SQLite's case-insensitive LIKE and a case-sensitive one answer the same.
    /// </summary>
    public static string Contains(string column, string patternParameter) => $@"{column} LIKE {patternParameter} ESCAPE '\'";

    /// <summary>The LIKE pattern for <see cref="Contains"/>: the text with its wildcards escaped, between two %.</summary>
    public static string ContainsPattern(string text) =>
        "%" + text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";

    /// <summary>The larger of two values (SQLite's two-argument max(); GREATEST elsewhere).</summary>
    public static string Greatest(string a, string b) => $"max({a}, {b})";

    /// <summary>
    /// Patients whose SearchName contains <paramref name="parameter"/> (a value made by <see cref="NameIndexPhrase"/>), answered
    /// by the trigram full-text index "PatientNameIndex" (SQLite FTS5, created and kept in sync by triggers in the
    /// PatientSearchIndex migration; a pg_trgm GIN index would play that part on PostgreSQL). Only for terms of 3 characters or more.
    /// </summary>
    public static string PatientIdsWithNameContaining(string parameter) =>
        $"""SELECT rowid FROM "PatientNameIndex" WHERE "PatientNameIndex" MATCH {parameter}""";

    /// <summary>The shortest term the trigram index can answer.</summary>
    public const int NameIndexMinLength = 3;

    /// <summary>A search-form term as one FTS5 phrase: a trigram phrase matches the substring exactly.</summary>
    public static string NameIndexPhrase(string searchForm) => "\"" + searchForm.Replace("\"", "\"\"") + "\"";
}
