using Cimef.Site.Data;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Data;

public class DatabaseTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private async Task<string> PragmaAsync(string name)
    {
        factory.NewClient(); // start the host: migrations run at start
        return await factory.WithDbAsync(async db =>
        {
            var conn = db.Database.GetDbConnection();
            await db.Database.OpenConnectionAsync();
            try
            {
                await using var cmd = conn.CreateCommand();
                cmd.CommandText = $"PRAGMA {name};";
                return Convert.ToString(await cmd.ExecuteScalarAsync())!;
            }
            finally { await db.Database.CloseConnectionAsync(); }
        });
    }

    [Fact, Trait("Provider", "SqliteOnly")]
    public async Task Journal_mode_is_wal() => Assert.Equal("wal", await PragmaAsync("journal_mode"));

    [Fact, Trait("Provider", "SqliteOnly")]
    public async Task Synchronous_is_full_on_every_connection() => Assert.Equal("2", await PragmaAsync("synchronous"));

    [Fact, Trait("Provider", "SqliteOnly")]
    public async Task Foreign_keys_are_enforced() => Assert.Equal("1", await PragmaAsync("foreign_keys"));

    [Fact, Trait("Provider", "SqliteOnly")]
    public async Task Page_cache_per_connection_is_kept_small() => Assert.Equal("-512", await PragmaAsync("cache_size"));

    [Fact, Trait("Provider", "SqliteOnly")]
    public async Task Busy_timeout_is_set() => Assert.Equal(Sqlite.BusyTimeoutMs.ToString(), await PragmaAsync("busy_timeout"));

    [Fact]
    public async Task All_migrations_are_applied_and_the_starter_catalogue_exists()
    {
        factory.NewClient();
        var (pending, exams) = await factory.WithDbAsync(async db =>
            ((await db.Database.GetPendingMigrationsAsync()).Count(), await db.Exams.CountAsync(e => e.IsActive)));
        Assert.Equal(0, pending);
        Assert.True(exams >= 15, $"starter catalogue has {exams} exams");
    }

    [Fact, Trait("Provider", "SqliteOnly")]
    public async Task Database_file_is_in_the_configured_data_directory_and_passes_integrity_check()
    {
        factory.NewClient();
        var path = Path.Combine(factory.DataDir, "cimef.db");
        Assert.True(File.Exists(path));
        Assert.Equal("ok", Sqlite.IntegrityCheck(path));
        SqliteConnection.ClearAllPools();
    }

    [Fact]
    public async Task Invoice_numbers_are_sequential_per_year()
    {
        factory.NewClient();
        var numbers = await factory.WithDbAsync(async db => new[]
        {
            await InvoiceNumbers.NextAsync(db, 2031),
            await InvoiceNumbers.NextAsync(db, 2031),
            await InvoiceNumbers.NextAsync(db, 2032),
        });
        Assert.Equal(["FAC-2031-000001", "FAC-2031-000002", "FAC-2032-000001"], numbers);
    }
}
