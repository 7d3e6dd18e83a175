namespace Cimef.Site.Data;

/// <summary>
/// The SQL fragments that differ between database engines, in one place (SQLite today). Timestamps are stored
/// as ISO text 'yyyy-MM-dd HH:mm:ss…' in UTC, so a day is the first 10 characters and range conditions on the
/// raw column keep using its index. A PostgreSQL provider would answer with to_char(col, 'YYYY-MM-DD').
/// </summary>
public static class SqlDialect
{
    /// <summary>The UTC day ('yyyy-MM-dd') of a timestamp column.</summary>
    public static string Day(string column) => $"substr({column}, 1, 10)";

    /// <summary>The larger of two values (SQLite's two-argument max(); GREATEST elsewhere).</summary>
    public static string Greatest(string a, string b) => $"max({a}, {b})";
}
