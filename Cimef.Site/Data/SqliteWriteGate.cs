using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Data;

/// <summary>
/// The hot SQLite writers of this process (login attempts, the access-event group commit, session slides) take
/// the database's single write lock one at a time, in the order they arrive. SQLite allows one writer per file,
/// and a writer that finds the lock taken does not queue: its busy handler sleeps and retries (1, 2, 5, 10 … 100 ms),
/// so under a burst of logins most of the time went to sleeping while the lock was free. Waiting here instead keeps
/// the lock busy and the wait as short as the transactions ahead. Other processes (the CLI) still meet the busy
/// handler. PostgreSQL: no gate (its row and advisory locks queue in the server).
/// </summary>
public sealed class SqliteWriteGate
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Waits for the gate on SQLite (dispose the result to leave); null on PostgreSQL.</summary>
    public async ValueTask<IDisposable?> EnterAsync(CimefDb db, CancellationToken ct)
    {
        if (!db.Database.IsSqlite()) return null;
        await _gate.WaitAsync(ct);
        return new Releaser(_gate);
    }

    /// <summary>Waits for the gate (the caller knows it runs on SQLite).</summary>
    public async ValueTask<IDisposable> EnterAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        return new Releaser(_gate);
    }

    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) gate.Release();
        }
    }
}
