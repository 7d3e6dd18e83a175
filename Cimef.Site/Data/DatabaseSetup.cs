using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Data;

/// <summary>
/// Registers <see cref="CimefDb"/> on the configured engine (<see cref="DatabaseOptions"/>). The choice is made when
/// the first context is resolved, not at registration, so configuration added late (test hosts, command line) counts.
/// SQLite: the file in the data directory with its per-connection pragmas. PostgreSQL: <see cref="PostgresCimefDb"/>
/// (its own migration set), Npgsql pooling and the statement timeout from <see cref="Postgres.ConnectionString"/>.
/// </summary>
public static class DatabaseSetup
{
    public static IServiceCollection AddDatabase(this IServiceCollection services)
    {
        services.AddSingleton<SqlitePragmaInterceptor>();
        // The options are built once per host (singleton), not once per request: building them (warnings configuration,
        // extensions) was a measurable share of a patient request. Everything they read is a singleton.
        services.AddDbContext<CimefDb>((sp, o) => o
            .UseSqlite(Sqlite.ConnectionString(sp.GetRequiredService<IOptions<StorageOptions>>().Value.DatabasePath))
            .AddInterceptors(sp.GetRequiredService<SqlitePragmaInterceptor>()), optionsLifetime: ServiceLifetime.Singleton);
        services.AddDbContext<PostgresCimefDb>((sp, o) => o
            .UseNpgsql(Postgres.ConnectionString(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value)), optionsLifetime: ServiceLifetime.Singleton);
        services.AddSingleton<HotQueries>();
        services.AddSingleton<SqliteWriteGate>();
        services.AddSingleton<ClusterLeader>(); // one node at a time for the background jobs
        // Everything asks for CimefDb (pages, Identity stores, workers): hand out the context of the configured engine.
        services.Replace(ServiceDescriptor.Scoped<CimefDb>(sp =>
            IsPostgres(sp) ? sp.GetRequiredService<PostgresCimefDb>() : new CimefDb(sp.GetRequiredService<DbContextOptions<CimefDb>>())));
        return services;
    }

    public static bool IsPostgres(IServiceProvider sp) => sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.IsPostgres;
}
