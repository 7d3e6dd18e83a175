using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Web;
using System.Reflection;
using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Data;

/// <summary>
/// Run once per process before serving or running a CLI verb: data directories, SQLite pragmas (checked) and
/// pre-migration backup (SQLite only), migrations, starter catalogue, roles, first admin from configuration.
/// </summary>
public static class DatabaseStartup
{
    /// <summary>The migration ids this build carries for an engine (listed at build time from Data/Migrations, see the csproj).</summary>
    public static IReadOnlyList<string> KnownMigrations(bool sqlite) =>
        typeof(DatabaseStartup).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == (sqlite ? "Cimef.Migrations.Sqlite" : "Cimef.Migrations.Postgres")).Value!
            .Split(';', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// What EF's GetPendingMigrationsAsync answers (known ids not in __EFMigrationsHistory), read with one query instead
    /// of EF's migrator, which searches every type of the assembly for migrations and builds a model for the history
    /// table: ~2,700 runtime types that stay loaded for the life of the process.
    /// </summary>
    public static async Task<List<string>> PendingMigrationsAsync(CimefDb db, bool sqlite, CancellationToken ct = default)
    {
        var known = KnownMigrations(sqlite);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = db.Database.GetDbConnection();
            var hasHistory = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(sqlite
                ? "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__EFMigrationsHistory')"
                : "SELECT to_regclass('\"__EFMigrationsHistory\"') IS NOT NULL", cancellationToken: ct));
            if (!hasHistory) return known.ToList();
            var applied = (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT \"MigrationId\" FROM \"__EFMigrationsHistory\"", cancellationToken: ct))).ToHashSet(StringComparer.Ordinal);
            return known.Where(id => !applied.Contains(id)).ToList();
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    public static async Task InitializeAsync(IServiceProvider services, CancellationToken ct = default)
    {
        var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        var log = services.GetRequiredService<ILoggerFactory>().CreateLogger("Cimef.Startup");
        var time = services.GetRequiredService<TimeProvider>();
        // Before anything is created: the data directory holds patients' reports and the keys to their passwords.
        PrivateFiles.RestrictNewFiles();
        foreach (var dir in new[] { storage.Root, storage.ReportsDirectory, storage.KeysDirectory, storage.BackupsDirectory })
            PrivateFiles.CreateDirectory(dir);

        // Held to the end: nodes started together take turns (PostgreSQL; nothing on SQLite).
        await using var turn = await StartupLock.AcquireAsync(services, log, ct);

        bool sqlite;
        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CimefDb>();
            sqlite = db.Database.IsSqlite();
            var pending = await PendingMigrationsAsync(db, sqlite, ct);
            // SQLite: a file copy before migrating. PostgreSQL: the operator's pg_dump (migrations run in a transaction).
            if (sqlite && pending.Count > 0 && File.Exists(storage.DatabasePath) && new FileInfo(storage.DatabasePath).Length > 0)
            {
                var backup = Path.Combine(storage.BackupsDirectory, $"pre-migration-{time.GetUtcNow():yyyyMMdd-HHmmss}.db");
                Sqlite.OnlineBackup(storage.DatabasePath, backup);
                log.LogInformation("Database copied to {Backup} before applying {Count} migration(s).", backup, pending.Count);
            }
            // Only when something is pending: with nothing to apply, EF still builds the snapshot's model and diffs it
            // against the current one on every start (MigrationSetsTests checks that they match), -2.5 MB idle.
            // EF's own migrator (its search for migrations and its history model) is loaded only then.
            if (pending.Count > 0)
            {
                await db.Database.MigrateAsync(ct);
                log.LogInformation("Applied {Count} migration(s): {Migrations}.", pending.Count, string.Join(", ", pending));
            }
        }

        if (sqlite)
        {
            var (journal, sync, fk) = Sqlite.EnsureAndRead(storage.DatabasePath);
            if (!string.Equals(journal, "wal", StringComparison.OrdinalIgnoreCase) || sync != 2 || !fk)
                throw new InvalidOperationException($"SQLite pragmas not as required (journal_mode={journal}, synchronous={sync}, foreign_keys={fk}).");
        }

        // Key ring in the database: the keys directory's keys imported once, a warning without a certificate.
        await Data.KeyRing.PrepareAsync(services, log, ct);

        // Files left readable by an older version (or copied in) are made private; SQLite's WAL/SHM copy the database's mode.
        PrivateFiles.Restrict(storage.Root);

        var removed = await services.GetRequiredService<ReportStore>().CleanupTempFilesAsync(ct);
        if (removed > 0) log.LogWarning("Removed {Count} temporary file(s) left by interrupted uploads.", removed);

        await using (var scope = services.CreateAsyncScope())
        {
            var sp = scope.ServiceProvider;
            var db = sp.GetRequiredService<CimefDb>();
            await ExamCatalogue.EnsureStarterAsync(db, ct);

            var roles = sp.GetRequiredService<RoleManager<IdentityRole>>();
            foreach (var role in Roles.All)
                if (!await roles.RoleExistsAsync(role)) await roles.CreateAsync(new IdentityRole(role));

            var admin = sp.GetRequiredService<IOptions<AdminOptions>>().Value;
            if (!string.IsNullOrWhiteSpace(admin.Email) && !string.IsNullOrWhiteSpace(admin.Password))
            {
                var users = sp.GetRequiredService<UserManager<StaffUser>>();
                if (await users.FindByEmailAsync(admin.Email) is null)
                {
                    var result = await StaffAccounts.CreateAsync(sp, admin.Email, "Administrateur", Roles.Admin, admin.Password);
                    if (result.Succeeded) log.LogInformation("First admin account created from configuration.");
                    else log.LogError("Admin account from configuration refused: {Errors}", string.Join(" ", result.Errors.Select(e => e.Description)));
                }
            }
        }
    }
}
