using System.Data.Common;

namespace Cimef.Site.Data;

/// <summary>
/// The SQL fragments that differ between database engines, in one place: one implementation per provider, picked
/// from the connection or context a query runs on (<see cref="Of(DbConnection)"/>, <see cref="Of(CimefDb)"/>).
/// Everything outside this class is portable SQL with double-quoted identifiers. On SQLite, timestamps are stored
/// as ISO text 'yyyy-MM-dd HH:mm:ss…' in UTC, so range conditions on the raw column keep using its index; on
/// PostgreSQL they are timestamptz.
/// </summary>
public abstract class SqlDialect
{
    public static readonly SqlDialect Sqlite = new SqliteDialect();
    public static readonly SqlDialect Postgres = new PostgresDialect();

    // Tested against SQLite's type: asking for Npgsql's would load its assembly into every SQLite clinic.
    public static SqlDialect Of(DbConnection connection) => connection is Microsoft.Data.Sqlite.SqliteConnection ? Sqlite : Postgres;

    public static SqlDialect Of(CimefDb db) => db is PostgresCimefDb ? Postgres : Sqlite;

    /// <summary>At most <paramref name="take"/> rows, after skipping <paramref name="skip"/>.</summary>
    public string Limit(string take, string? skip = null) => skip is null ? $"LIMIT {take}" : $"LIMIT {take} OFFSET {skip}";

    /// <summary><paramref name="column"/> is one of the list parameter's values (Dapper expands IN @list on SQLite; = ANY(@list) on PostgreSQL).</summary>
    public abstract string InList(string column, string listParameter);

    /// <summary>
    /// <paramref name="column"/> contains the text given to <see cref="ContainsPattern"/>. Columns compared this way hold
    /// a lower-case search form, so SQLite's case-insensitive LIKE and PostgreSQL's case-sensitive one answer the same.
    /// </summary>
    public string Contains(string column, string patternParameter) => $@"{column} LIKE {patternParameter} ESCAPE '\'";

    /// <summary>The LIKE pattern for <see cref="Contains"/>: the text with its wildcards escaped, between two %.</summary>
    public static string ContainsPattern(string text) =>
        "%" + text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";

    /// <summary>
    /// <paramref name="column"/> begins with the text of <paramref name="prefixParameter"/>, compared character by
    /// character whatever the column's collation (no '\uFFFF' upper bound, whose place in a linguistic collation is
    /// undefined). SQLite: a range on the raw value, exact under its BINARY collation and answered by the column's
    /// index; PostgreSQL: starts_with(), exact under any database collation.
    /// </summary>
    public abstract string StartsWith(string column, string prefixParameter);

    /// <summary>The larger of two values (SQLite's two-argument max(); GREATEST on PostgreSQL).</summary>
    public abstract string Greatest(string a, string b);

    /// <summary>
    /// Ids of the patients whose SearchName contains the term passed as <paramref name="parameter"/> (a value made by
    /// <see cref="NameIndexPhrase"/>), answered by the trigram index: SQLite's FTS5 table "PatientNameIndex" (kept in
    /// sync by the PatientSearchIndex migration's triggers), PostgreSQL's pg_trgm GIN index on "SearchName".
    /// Only for terms of <see cref="NameIndexMinLength"/> characters or more.
    /// </summary>
    public abstract string PatientIdsWithNameContaining(string parameter);

    /// <summary>The shortest term the trigram index can answer.</summary>
    public const int NameIndexMinLength = 3;

    /// <summary>The parameter value for <see cref="PatientIdsWithNameContaining"/>.</summary>
    public abstract string NameIndexPhrase(string searchForm);

    /// <summary>
    /// A statement that makes the current transaction wait for, then hold until it ends, a lock on the text value
    /// passed as <paramref name="textParameter"/> within <paramref name="space"/>, so a check-then-insert on that value
    /// is atomic; null when the engine needs none. SQLite serialises writers (one write transaction at a time), so a
    /// count and the insert it decides, in one statement or one write transaction, are atomic already. PostgreSQL
    /// (READ COMMITTED) runs them concurrently: a transaction-level advisory lock on (space, hashtext(value))
    /// serialises the transactions that touch the same value (two values sharing a hash merely wait for each other).
    /// Run it inside a transaction; when one transaction takes several, take them in the order of <see cref="LockSpace"/>.
    /// </summary>
    public abstract string? TransactionLock(LockSpace space, string textParameter);

    /// <summary>
    /// Appended to a SELECT whose rows a statement claims, so two nodes claiming at once take disjoint rows without
    /// waiting for each other: PostgreSQL's FOR UPDATE SKIP LOCKED; empty on SQLite, where the claiming UPDATE is one
    /// write transaction (one writer at a time) and the second claimer sees the first one's claim.
    /// </summary>
    public abstract string SkipLocked { get; }

    /// <summary>
    /// A query answering true when this session holds (or has just taken) the cluster leader lock, without waiting:
    /// PostgreSQL's session-level advisory lock, released when the session ends (the node died or its connection
    /// broke); null on SQLite, where the single node is always the leader.
    /// </summary>
    public abstract string? TryLeaderLock { get; }

    private sealed class SqliteDialect : SqlDialect
    {
        public override string SkipLocked => "";
        public override string? TryLeaderLock => null;
        public override string InList(string column, string listParameter) => $"{column} IN {listParameter}";
        public override string Greatest(string a, string b) => $"max({a}, {b})";
        // char(1114111) is U+10FFFF, the last code point: every text that begins with the prefix sorts below prefix || it.
        public override string StartsWith(string column, string prefixParameter) =>
            $"({column} >= {prefixParameter} AND {column} < {prefixParameter} || char(1114111))";
        public override string PatientIdsWithNameContaining(string parameter) =>
            $"""SELECT rowid FROM "PatientNameIndex" WHERE "PatientNameIndex" MATCH {parameter}""";
        // A search-form term as one FTS5 phrase: a trigram phrase matches the substring exactly.
        public override string NameIndexPhrase(string searchForm) => "\"" + searchForm.Replace("\"", "\"\"") + "\"";
        public override string? TransactionLock(LockSpace space, string textParameter) => null;
    }

    private sealed class PostgresDialect : SqlDialect
    {
        public override string SkipLocked => "FOR UPDATE SKIP LOCKED";
        public override string? TryLeaderLock => $"SELECT pg_try_advisory_lock({(int)LockSpace.ClusterLeader}, 0)";
        public override string InList(string column, string listParameter) => $"{column} = ANY({listParameter})";
        public override string Greatest(string a, string b) => $"GREATEST({a}, {b})";
        public override string StartsWith(string column, string prefixParameter) => $"starts_with({column}, {prefixParameter})";
        public override string PatientIdsWithNameContaining(string parameter) =>
            $"""SELECT "Id" FROM "Patients" WHERE "SearchName" LIKE {parameter} ESCAPE '\'""";
        public override string NameIndexPhrase(string searchForm) => ContainsPattern(searchForm);
        public override string? TransactionLock(LockSpace space, string textParameter) =>
            $"SELECT pg_advisory_xact_lock({(int)space}, hashtext({textParameter}))";
    }
}

/// <summary>
/// The kinds of value <see cref="SqlDialect.TransactionLock"/> serialises on (the first key of PostgreSQL's two-key
/// advisory lock, so a login key and an address with the same hash never share a lock). A transaction that takes
/// several takes them in this order, so two of them never wait for each other in a cycle.
/// </summary>
public enum LockSpace
{
    /// <summary>A login throttle key bucket (the LoginFailures "Key" value).</summary>
    LoginKey = 1,
    /// <summary>A client address bucket of the login throttle (the LoginFailures "ClientIp" value).</summary>
    LoginAddress = 2,
    /// <summary>An alert's de-duplication key (kind:subject) and its kind's hourly cap.</summary>
    AlertKind = 3,
    /// <summary>The cluster leader's session lock (<see cref="SqlDialect.TryLeaderLock"/>), never a transaction lock.</summary>
    ClusterLeader = 4,
    /// <summary>The one-time import of the keys directory into the database key ring (nodes starting together).</summary>
    KeyRingImport = 5,
    /// <summary>The statistics rollups (one filler at a time).</summary>
    StatisticsRollup = 6,
    /// <summary>A node's start-up (migrations, pre-migration backup, seed rows): one node at a time (<see cref="StartupLock"/>).</summary>
    Startup = 7,
    /// <summary>A phone number or e-mail address asking for recovery codes (its daily count, <c>Portal.PatientRecovery</c>).</summary>
    RecoveryContact = 8,
}
