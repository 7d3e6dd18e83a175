using Cimef.Site.Data;
using Cimef.Site.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Cimef.Site.Tests.Data;

/// <summary>A theory that runs only in the PostgreSQL pass (CIMEF_TEST_PROVIDER=Postgres).</summary>
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    public PostgresTheoryAttribute()
    {
        if (!TestDatabase.IsPostgres) Skip = "PostgreSQL pass only (CIMEF_TEST_PROVIDER=Postgres).";
    }
}

/// <summary>A fact that runs only in the PostgreSQL pass (CIMEF_TEST_PROVIDER=Postgres).</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!TestDatabase.IsPostgres) Skip = "PostgreSQL pass only (CIMEF_TEST_PROVIDER=Postgres).";
    }
}

/// <summary>One model, two migration sets: SQLite's is the one clinics already run, PostgreSQL has its own.</summary>
public class MigrationSetsTests : IDisposable
{
    /// <summary>The SQLite migrations of main as clinics have them applied; an id changed here would re-run on their data.</summary>
    private static readonly string[] ClinicMigrations =
    [
        "20261125021556_InitialCreate",
        "20261125025300_AuditStatistics",
        "20261125033336_PatientSearchIndex",
        "20261128185950_TrustAtTheEdges",
        "20261128190754_LoginFailureAccess",
        "20261128214115_FhirReportIdentifier",
        "20261128214501_ClusterJobs",
        "20261128214619_SharedKeysAndLimits",
        "20261128214636_StatisticsRollups",
        "20261128223707_AuditEntityIndex",
        "20261128224022_WavePayments",
        "20261128231241_ReportShares",
        "20261129003032_PatientPhone",
        "20261129032656_EventsByPatientKind",
        "20261204163312_StaffOutboxMessages",
        "20261204174422_PatientRecovery",
        "20261204190637_Imaging",
        "20261204205602_CredentialHandoverKind",
    ];

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cimef-migrations", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact, Trait("Provider", "SqliteOnly")]
    public async Task A_clinic_database_migrated_by_main_sees_nothing_pending()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "cimef.db");
        // main's migrations, applied one by one as successive releases did (ids only: their code is unchanged).
        await using (var db = Sqlite(path))
        {
            var migrator = db.GetService<IMigrator>();
            foreach (var id in ClinicMigrations) await migrator.MigrateAsync(id);
        }

        await using var current = Sqlite(path);
        Assert.Empty(await current.Database.GetPendingMigrationsAsync());
        Assert.Equal(ClinicMigrations, current.Database.GetMigrations());
        Assert.Equal(ClinicMigrations, await current.Database.GetAppliedMigrationsAsync());
        Assert.False(current.Database.HasPendingModelChanges(), "the SQLite model differs from its last migration's snapshot");
        // The PostgreSQL set never leaks into the SQLite one.
        Assert.DoesNotContain(current.Database.GetMigrations(), m => m.Contains("Postgres", StringComparison.Ordinal));
    }

    [Fact, Trait("Provider", "SqliteOnly")]
    public async Task Start_up_finds_the_same_pending_migrations_as_EF_without_its_migrator()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "pending.db");
        await using var db = Sqlite(path);
        // The ids listed at build time (csproj) are EF's own list, for both engines.
        Assert.Equal(db.Database.GetMigrations(), DatabaseStartup.KnownMigrations(sqlite: true));
        using (var pg = new PostgresCimefDbDesignTimeFactory().CreateDbContext([]))
            Assert.Equal(pg.Database.GetMigrations(), DatabaseStartup.KnownMigrations(sqlite: false));

        // New database (no history table), half migrated, fully migrated: the same answer as EF's.
        Assert.Equal(ClinicMigrations, await DatabaseStartup.PendingMigrationsAsync(db, sqlite: true));
        await db.GetService<IMigrator>().MigrateAsync(ClinicMigrations[4]);
        var half = await DatabaseStartup.PendingMigrationsAsync(db, sqlite: true);
        Assert.Equal(ClinicMigrations[5..], half);
        Assert.Equal(await db.Database.GetPendingMigrationsAsync(), half);
        await db.Database.MigrateAsync();
        Assert.Empty(await DatabaseStartup.PendingMigrationsAsync(db, sqlite: true));
    }

    /// <summary>
    /// Each engine's model is compiled ahead (Data/CompiledModels, `./run.ps1 migration NAME`): it must be
    /// the model OnModelCreating builds, or the site would run on a stale one. Regenerate it when this fails.
    /// </summary>
    [Fact]
    public void The_compiled_models_are_the_models_OnModelCreating_builds()
    {
        using var sqlite = Sqlite(Path.Combine(_dir, "model.db"));
        using var pg = new PostgresCimefDbDesignTimeFactory().CreateDbContext([]);
        foreach (DbContext db in new DbContext[] { sqlite, pg })
        {
            var compiled = db.Model;
            Assert.IsAssignableFrom<Microsoft.EntityFrameworkCore.Metadata.RuntimeModel>(compiled);
            Assert.StartsWith("Cimef.Site.Data.CompiledModels.", compiled.GetType().FullName);
            var built = db.GetService<IDesignTimeModel>().Model;
            // The migrations differ refuses the read-optimized model: compare what it would compare, table by table.
            static IEnumerable<string> Shape(IModel m) => m.GetRelationalModel().Tables.OrderBy(t => t.Name).SelectMany(t =>
                t.Columns.OrderBy(c => c.Name).Select(c => $"{t.Name}.{c.Name} {c.StoreType} null={c.IsNullable}")
                    .Append($"{t.Name} pk {t.PrimaryKey?.Name}({string.Join(",", t.PrimaryKey?.Columns.Select(c => c.Name) ?? [])})")
                    .Concat(t.Indexes.OrderBy(i => i.Name).Select(i => $"{t.Name} index {i.Name}({string.Join(",", i.Columns.Select(c => c.Name))}) unique={i.IsUnique} filter={i.Filter}"))
                    .Concat(t.ForeignKeyConstraints.OrderBy(f => f.Name).Select(f => $"{t.Name} fk {f.Name}({string.Join(",", f.Columns.Select(c => c.Name))}) -> {f.PrincipalTable.Name} {f.OnDeleteAction}")))
                .Concat(m.GetEntityTypes().OrderBy(e => e.Name).SelectMany(e =>
                    e.GetProperties().Select(p => $"{e.Name}.{p.Name}:{p.ClrType.Name}:{p.GetValueConverter()?.GetType().Name}:{p.GetMaxLength()}:{p.IsNullable}:{p.ValueGenerated}")
                        .Concat(e.GetNavigations().Select(n => $"{e.Name}.{n.Name}->{n.TargetEntityType.Name}"))));
            Assert.True(Shape(built).SequenceEqual(Shape(compiled)),
                $"{db.GetType().Name}: the compiled model differs from OnModelCreating; regenerate it (./run.ps1 migration NAME, docs/development.md)");
        }
    }

    /// <summary>
    /// SQLite rebuilds a table to add a foreign key, from the model in that migration's own snapshot: a migration written
    /// beside another one (parallel branches) can silently drop the other's columns. Every mapped column must exist.
    /// </summary>
    [Fact, Trait("Provider", "SqliteOnly")]
    public async Task Every_mapped_column_exists_in_a_database_built_by_the_migrations()
    {
        Directory.CreateDirectory(_dir);
        await using var db = Sqlite(Path.Combine(_dir, "columns.db"));
        await db.Database.MigrateAsync();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        var missing = new List<string>();
        foreach (var entity in db.Model.GetEntityTypes().Where(e => e.GetTableName() is not null))
        {
            var table = entity.GetTableName()!;
            var columns = (await connection.QueryAsync<string>("SELECT name FROM pragma_table_info(@table)", new { table })).ToHashSet();
            var store = StoreObjectIdentifier.Table(table, entity.GetSchema());
            missing.AddRange(entity.GetProperties().Select(p => p.GetColumnName(store)).OfType<string>()
                .Where(c => !columns.Contains(c)).Select(c => $"{table}.{c}"));
        }
        Assert.Empty(missing);
    }

    [Fact]
    public void The_postgres_model_has_its_own_migration_set_and_nothing_pending()
    {
        using var db = new PostgresCimefDbDesignTimeFactory().CreateDbContext([]);
        var migrations = db.Database.GetMigrations().ToList();
        Assert.Single(migrations, m => m.EndsWith("_InitialPostgres", StringComparison.Ordinal));
        Assert.Empty(migrations.Intersect(ClinicMigrations));
        Assert.False(db.Database.HasPendingModelChanges(), "the PostgreSQL model differs from its snapshot: add a migration (./run.ps1 migration NAME)");
    }

    [PostgresFact]
    public async Task On_postgres_times_are_timestamptz_names_use_a_trigram_index_and_no_fts5_table_exists()
    {
        using var factory = new CimefFactory();
        factory.NewClient();
        await factory.WithDbAsync(async db =>
        {
            Assert.IsType<PostgresCimefDb>(db);
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            var conn = db.Database.GetDbConnection();
            Assert.Equal("timestamp with time zone", await conn.ExecuteScalarAsync<string>(
                "SELECT data_type FROM information_schema.columns WHERE table_name = 'AccessEvents' AND column_name = 'At'"));
            Assert.Equal("boolean", await conn.ExecuteScalarAsync<string>(
                "SELECT data_type FROM information_schema.columns WHERE table_name = 'PatientReports' AND column_name = 'IsActive'"));
            var index = await conn.ExecuteScalarAsync<string>("SELECT indexdef FROM pg_indexes WHERE indexname = 'IX_Patients_SearchName_trgm'");
            Assert.Contains("gin", index);
            Assert.Contains("gin_trgm_ops", index);
            Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM pg_class WHERE relname ILIKE 'PatientNameIndex%'"));
            return 0;
        });
    }

    private static CimefDb Sqlite(string path) =>
        new(new DbContextOptionsBuilder<CimefDb>().UseSqlite(Cimef.Site.Data.Sqlite.ConnectionString(path)).Options);
}
