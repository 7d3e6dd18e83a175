using Cimef.Site.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Npgsql;

namespace Cimef.Site.Data;

/// <summary>
/// The one place that knows PostgreSQL connection specifics (the counterpart of <see cref="Sqlite"/>): pooling,
/// the statement timeout, and which server errors mean "busy, try again" (answered like SQLite's SQLITE_BUSY).
/// </summary>
public static class Postgres
{
    /// <summary>
    /// The configured connection string with the portal's defaults where it says nothing: pooling on, a
    /// statement_timeout (a runaway query is cancelled and answered 503 instead of holding a connection), a
    /// lock_timeout of the same length, and an application name that shows in pg_stat_activity.
    /// </summary>
    public static string ConnectionString(DatabaseOptions options)
    {
        var b = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        b.Pooling = true;
        if (string.IsNullOrEmpty(b.ApplicationName)) b.ApplicationName = "cimef-portal";
        var ms = options.StatementTimeoutSeconds * 1000;
        var server = b.Options ?? "";
        if (!server.Contains("statement_timeout", StringComparison.Ordinal)) server += $" -c statement_timeout={ms}";
        if (!server.Contains("lock_timeout", StringComparison.Ordinal)) server += $" -c lock_timeout={ms}";
        b.Options = server.Trim();
        return b.ToString();
    }

    /// <summary>SQLSTATEs that mean "the database is momentarily contended": the request may simply be retried.</summary>
    public static readonly IReadOnlySet<string> BusyStates = new HashSet<string>
    {
        PostgresErrorCodes.SerializationFailure, // 40001
        PostgresErrorCodes.DeadlockDetected,     // 40P01
        PostgresErrorCodes.LockNotAvailable,     // 55P03 (lock_timeout, NOWAIT)
        PostgresErrorCodes.QueryCanceled,        // 57014 (statement_timeout)
    };

    public static bool IsBusy(Exception e) => e is PostgresException pg && BusyStates.Contains(pg.SqlState);
}

/// <summary>
/// The same model on PostgreSQL, with its own migration set (Data/Migrations/Postgres): EF Core finds migrations by
/// the context type named in their [DbContext] attribute, so the SQLite migrations (CimefDb) and these never mix.
/// Differences from SQLite: quoted identifiers in check constraints, strings as text (lengths unenforced, as on
/// SQLite), and a pg_trgm GIN index on Patients.SearchName
/// that plays the part of SQLite's FTS5 trigram table (which only the SQLite migrations create).
/// </summary>
public class PostgresCimefDb(DbContextOptions<PostgresCimefDb> options) : CimefDb(options)
{
    protected override string Column(string name) => $"\"{name}\"";

    protected override void OnModelCreating(ModelBuilder b)
    {
        base.OnModelCreating(b);
        // SQLite stores every string as TEXT and never enforces a declared length, so rows that exist there (an audit
        // entry whose entity id is an e-mail, data copied from a clinic's file) must fit here too: text, as on SQLite.
        foreach (var p in b.Model.GetEntityTypes().SelectMany(t => t.GetProperties())
                     .Where(p => p.ClrType == typeof(string) && p.GetMaxLength() is not null))
            p.SetColumnType("text");
        b.HasPostgresExtension("pg_trgm");
        b.Entity<Patient>().HasIndex(p => p.SearchName, "IX_Patients_SearchName_trgm")
            .HasMethod("gin")
            .HasOperators("gin_trgm_ops");
    }
}

/// <summary>For <c>dotnet ef migrations add … --context PostgresCimefDb</c>: builds the model without a server.</summary>
public sealed class PostgresCimefDbDesignTimeFactory : IDesignTimeDbContextFactory<PostgresCimefDb>
{
    public PostgresCimefDb CreateDbContext(string[] args) => new(new DbContextOptionsBuilder<PostgresCimefDb>()
        .UseNpgsql("Host=localhost;Database=cimef_design").Options);
}

/// <summary>For <c>dotnet ef migrations add … --context CimefDb</c> (the SQLite migration set).</summary>
public sealed class SqliteCimefDbDesignTimeFactory : IDesignTimeDbContextFactory<CimefDb>
{
    public CimefDb CreateDbContext(string[] args) => new(new DbContextOptionsBuilder<CimefDb>()
        .UseSqlite("Data Source=cimef-design.db").Options);
}
