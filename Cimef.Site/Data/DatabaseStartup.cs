using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Web;
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
    public static async Task InitializeAsync(IServiceProvider services, CancellationToken ct = default)
    {
        var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        var log = services.GetRequiredService<ILoggerFactory>().CreateLogger("Cimef.Startup");
        var time = services.GetRequiredService<TimeProvider>();
        // Before anything is created: the data directory holds patients' reports and the keys to their passwords.
        PrivateFiles.RestrictNewFiles();
        foreach (var dir in new[] { storage.Root, storage.ReportsDirectory, storage.KeysDirectory, storage.BackupsDirectory })
            PrivateFiles.CreateDirectory(dir);

        bool sqlite;
        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CimefDb>();
            sqlite = db.Database.IsSqlite();
            var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
            // SQLite: a file copy before migrating. PostgreSQL: the operator's pg_dump (migrations run in a transaction).
            if (sqlite && pending.Count > 0 && File.Exists(storage.DatabasePath) && new FileInfo(storage.DatabasePath).Length > 0)
            {
                var backup = Path.Combine(storage.BackupsDirectory, $"pre-migration-{time.GetUtcNow():yyyyMMdd-HHmmss}.db");
                Sqlite.OnlineBackup(storage.DatabasePath, backup);
                log.LogInformation("Database copied to {Backup} before applying {Count} migration(s).", backup, pending.Count);
            }
            // Only when something is pending: with nothing to apply, EF still builds the snapshot's model and diffs it
            // against the current one on every start (MigrationSetsTests checks that they match), -2.5 MB idle.
            if (pending.Count > 0) await db.Database.MigrateAsync(ct);
        }

        if (sqlite)
        {
            var (journal, sync, fk) = Sqlite.EnsureAndRead(storage.DatabasePath);
            if (!string.Equals(journal, "wal", StringComparison.OrdinalIgnoreCase) || sync != 2 || !fk)
                throw new InvalidOperationException($"SQLite pragmas not as required (journal_mode={journal}, synchronous={sync}, foreign_keys={fk}).");
        }

        // Key ring in the database: the keys directory's keys imported once, a warning without a certificate (issue 17).
        await Access.KeyRing.PrepareAsync(services, log, ct);

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
