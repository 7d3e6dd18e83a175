using Cimef.Site.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cimef.Site.Data;

/// <summary>
/// Which node runs the once-per-cluster jobs (retention, integrity check, alert monitor). On PostgreSQL the leader is
/// the node whose dedicated connection holds the session advisory lock of <see cref="SqlDialect.TryLeaderLock"/>: when
/// the node dies its session ends and the lock goes with it, so another node takes over at its next attempt. Each
/// call re-checks the connection (a broken one loses the lock, so it is dropped and the lock tried again on a new
/// one). On SQLite there is one node, always the leader.
/// </summary>
public sealed class ClusterLeader(IOptions<DatabaseOptions> database, ILogger<ClusterLeader> log) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private NpgsqlConnection? _connection;
    private bool _leading;

    /// <summary>True when this node is the leader now (taking the lock if it is free).</summary>
    // One server on SQLite always leads; Npgsql is loaded only where there is a cluster.
    public Task<bool> IsLeaderAsync(CancellationToken ct = default) => database.Value.IsPostgres ? PostgresLeaderAsync(ct) : Task.FromResult(true);

    /// <summary>What the last check found, without checking again (the metrics' leader flag; a scrape takes no lock).</summary>
    public bool IsLeading => !database.Value.IsPostgres || _leading;

    private async Task<bool> PostgresLeaderAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            try
            {
                _connection ??= await OpenAsync(ct);
                await using var cmd = new NpgsqlCommand(SqlDialect.Postgres.TryLeaderLock, _connection);
                var leading = await cmd.ExecuteScalarAsync(ct) is true;
                if (leading != _leading) log.LogInformation(leading ? "This node is now the cluster leader." : "This node is no longer the cluster leader.");
                _leading = leading;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                // The session (and any lock it held) is gone: drop it, try again next time on a new one.
                if (_leading) log.LogWarning(e, "Lost the leader connection; leadership is released.");
                _leading = false;
                await DropAsync();
            }
            return _leading;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        // Unpooled: closing it ends the session (and the lock); keepalives notice a dead network path.
        var b = new NpgsqlConnectionStringBuilder(Postgres.ConnectionString(database.Value))
        {
            Pooling = false, KeepAlive = 15, ApplicationName = "cimef-portal-leader",
        };
        var c = new NpgsqlConnection(b.ToString());
        try
        {
            await c.OpenAsync(ct);
            return c;
        }
        catch
        {
            await c.DisposeAsync();
            throw;
        }
    }

    private async Task DropAsync()
    {
        if (_connection is null) return;
        try { await _connection.DisposeAsync(); } catch (NpgsqlException) { }
        _connection = null;
    }

    public async ValueTask DisposeAsync()
    {
        await DropAsync();
        _gate.Dispose();
    }
}

/// <summary>The <see cref="JobState"/> rows: when a job last ran, where, and its cursor, shared by every node.</summary>
public static class JobRuns
{
    /// <summary>
    /// Records a run of <paramref name="name"/> by <paramref name="node"/> at <paramref name="now"/> when the previous one
    /// is at least <paramref name="interval"/> old (or there was none); false when it is not due. One conditional UPDATE,
    /// so two nodes that both think they may run never both start the same run.
    /// </summary>
    public static async Task<bool> TryStartAsync(CimefDb db, string name, TimeSpan interval, DateTime now, string node, CancellationToken ct = default)
    {
        await EnsureAsync(db, name, ct);
        var dueBefore = now - interval;
        return await db.JobStates.Where(j => j.Name == name && (j.LastRunAt == null || j.LastRunAt <= dueBefore))
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.LastRunAt, now).SetProperty(j => j.RunBy, node), ct) == 1;
    }

    /// <summary>The job's cursor; null when it has none yet.</summary>
    public static async Task<long?> CursorAsync(CimefDb db, string name, CancellationToken ct = default) =>
        await db.JobStates.Where(j => j.Name == name).Select(j => j.Cursor).FirstOrDefaultAsync(ct);

    /// <summary>
    /// Moves the cursor from <paramref name="from"/> to <paramref name="to"/>; false when another node moved it first
    /// (then the caller must not act on the item it was about to handle).
    /// </summary>
    public static async Task<bool> TryAdvanceAsync(CimefDb db, string name, long? from, long to, CancellationToken ct = default)
    {
        await EnsureAsync(db, name, ct);
        return await db.JobStates.Where(j => j.Name == name && j.Cursor == from)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.Cursor, to), ct) == 1;
    }

    private static Task EnsureAsync(CimefDb db, string name, CancellationToken ct) =>
        db.Database.ExecuteSqlRawAsync("""INSERT INTO "JobStates" ("Name") VALUES ({0}) ON CONFLICT ("Name") DO NOTHING""", [name], ct);
}
