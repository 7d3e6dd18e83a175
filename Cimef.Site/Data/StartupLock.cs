using Microsoft.Extensions.Options;
using Npgsql;

namespace Cimef.Site.Data;

/// <summary>
/// Nodes started together on one PostgreSQL database take turns through their start-up: the pending-migrations check,
/// the migrations, the key ring import and the seed rows (roles, first admin, starter catalogue) each read then write,
/// so two nodes doing them at once apply the same migration twice or insert the same role twice. A session advisory
/// lock on a dedicated, unpooled connection is held across all of it: the first node does the work, the others wait
/// (bounded by <see cref="DatabaseOptions.StartupLockWaitSeconds"/>), then find nothing pending. A node that dies while
/// holding it releases it with its session. SQLite has one node and needs none.
/// </summary>
public sealed class StartupLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;

    private StartupLock(NpgsqlConnection connection) => _connection = connection;

    /// <summary>The lock, once this node holds it; null on SQLite.</summary>
    public static Task<StartupLock?> AcquireAsync(IServiceProvider services, ILogger log, CancellationToken ct)
    {
        var options = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        // Its own method: a SQLite clinic never loads Npgsql.
        return options.IsPostgres ? PostgresAcquireAsync(options, services, log, ct) : Task.FromResult<StartupLock?>(null);
    }

    private static async Task<StartupLock?> PostgresAcquireAsync(DatabaseOptions options, IServiceProvider services, ILogger log, CancellationToken ct)
    {
        var wait = TimeSpan.FromSeconds(options.StartupLockWaitSeconds);
        var time = services.GetRequiredService<TimeProvider>();
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Postgres.ConnectionString(options))
        {
            Pooling = false, KeepAlive = 15, ApplicationName = "cimef-portal-startup",
        }.ToString());
        try
        {
            await connection.OpenAsync(ct);
            var started = time.GetTimestamp();
            var said = false;
            while (true)
            {
                await using (var cmd = new NpgsqlCommand($"SELECT pg_try_advisory_lock({(int)LockSpace.Startup}, 0)", connection))
                    if (await cmd.ExecuteScalarAsync(ct) is true) break;
                if (!said)
                {
                    log.LogInformation("Another node is starting on this database (migrations, seed rows): waiting for it, at most {Seconds} s.", wait.TotalSeconds);
                    said = true;
                }
                if (time.GetElapsedTime(started) > wait)
                    throw new StartupRefusedException(
                        $"Un autre nœud démarre sur cette base depuis plus de {wait.TotalSeconds:0} s (migrations en cours ?) : démarrage abandonné, relancez ce nœud quand l'autre a fini (Database:StartupLockWaitSeconds).");
                await Task.Delay(TimeSpan.FromMilliseconds(250), time, ct);
            }
            if (said) log.LogInformation("The other node finished starting; this node goes on (nothing is applied twice).");
            return new StartupLock(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Closing the unpooled connection ends the session, which releases the lock even if the unlock failed.
        try
        {
            await using var cmd = new NpgsqlCommand($"SELECT pg_advisory_unlock({(int)LockSpace.Startup}, 0)", _connection);
            await cmd.ExecuteScalarAsync();
        }
        catch (NpgsqlException) { }
        await _connection.DisposeAsync();
    }
}

/// <summary>A start that cannot go on for a reason the operator can act on: printed in French, exit code 3, no stack trace.</summary>
public sealed class StartupRefusedException(string message) : Exception(message);
