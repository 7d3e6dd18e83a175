using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

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

    public static void ApplyPragmas(DbConnection connection)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = $"PRAGMA busy_timeout={BusyTimeoutMs}; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
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

public sealed class SqlitePragmaInterceptor : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
        => Sqlite.ApplyPragmas(connection);

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = $"PRAGMA busy_timeout={Sqlite.BusyTimeoutMs}; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
