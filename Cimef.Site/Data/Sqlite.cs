using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Cimef.Site.Storage;

namespace Cimef.Site.Data;

/// <summary>
/// The one place that knows SQLite specifics: connection string and per-connection pragmas.
/// journal_mode=WAL persists in the file; synchronous, foreign_keys and busy_timeout are per connection,
/// so they are set on every opened connection (EF and Dapper share <c>db.Database.GetDbConnection()</c>).
/// </summary>
public static class Sqlite
{
    public const int BusyTimeoutMs = 5000;

    public static string ConnectionString(string databasePath) => new SqliteConnectionStringBuilder
    {
        DataSource = databasePath,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Cache = SqliteCacheMode.Private,
        Pooling = true,
        DefaultTimeout = BusyTimeoutMs / 1000,
    }.ToString();

    /// <summary>
    /// Per-connection settings. cache_size is kept small (512 KiB instead of 2 MiB): under load the pool holds one
    /// connection per concurrent request, each with its own page cache, while the OS already caches the file.
    /// </summary>
    public static readonly string PerConnectionPragmas =
        $"PRAGMA busy_timeout={BusyTimeoutMs}; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-512;";

    public static void ApplyPragmas(DbConnection connection)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = PerConnectionPragmas;
        cmd.ExecuteNonQuery();
    }

    /// <summary>Sets WAL once (persistent) and returns the pragmas as seen by a fresh connection.</summary>
    public static (string JournalMode, int Synchronous, bool ForeignKeys) EnsureAndRead(string databasePath)
    {
        using var c = new SqliteConnection(ConnectionString(databasePath));
        c.Open();
        ApplyPragmas(c);
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode=WAL;";
        var mode = (string)cmd.ExecuteScalar()!;
        cmd.CommandText = "PRAGMA synchronous;";
        var sync = Convert.ToInt32(cmd.ExecuteScalar());
        cmd.CommandText = "PRAGMA foreign_keys;";
        var fk = Convert.ToInt32(cmd.ExecuteScalar()) == 1;
        return (mode, sync, fk);
    }

    public static string IntegrityCheck(string databasePath)
    {
        using var c = new SqliteConnection(ConnectionString(databasePath));
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA integrity_check;";
        return (string)cmd.ExecuteScalar()!;
    }

    /// <summary>Consistent copy of a live database with SQLite's online backup API.</summary>
    public static void OnlineBackup(string sourcePath, string destinationPath)
    {
        using var src = new SqliteConnection(ConnectionString(sourcePath));
        src.Open();
        ApplyPragmas(src);
        using var dst = new SqliteConnection(ConnectionString(destinationPath));
        dst.Open();
        src.BackupDatabase(dst);
        dst.Close();
        SqliteConnection.ClearPool(dst);
    }
}

/// <summary>
/// Applies the per-connection pragmas once per physical SQLite connection: pooled connections keep them, and EF opens
/// and closes its connection around every query, so running them on every open would cost three statements per query.
/// </summary>
public sealed class SqlitePragmaInterceptor : DbConnectionInterceptor
{
    private static readonly ConditionalWeakTable<SQLitePCL.sqlite3, object> Initialised = new();

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (!FirstOpen(connection)) return;
        try { Sqlite.ApplyPragmas(connection); }
        catch { Forget(connection); throw; }
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (!FirstOpen(connection)) return;
        try
        {
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = Sqlite.PerConnectionPragmas;
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        catch
        {
            Forget(connection);
            throw;
        }
    }

    /// <summary>A connection whose pragmas failed is set up again on its next open.</summary>
    private static void Forget(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle }) Initialised.Remove(handle);
    }

    /// <summary>True the first time this physical connection (the native handle a pooled connection reuses) is seen.</summary>
    private static bool FirstOpen(DbConnection connection) =>
        connection is not SqliteConnection { Handle: { } handle } || Initialised.TryAdd(handle, Initialised);
}
