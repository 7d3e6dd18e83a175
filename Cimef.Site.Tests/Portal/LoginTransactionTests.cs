using System.Collections.Concurrent;
using System.Data.Common;
using System.Net;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Portal;

/// <summary>
/// Each well-formed login attempt commits its throttle reservation and its outcome in one write
/// transaction (one fsync). On SQLite counted by the engine's own commit hook on every connection the site opens
/// (EF's and <see cref="HotQueries"/>'); on PostgreSQL by the transactions EF commits (the login's transaction is
/// EF's) plus the writes EF runs outside any transaction.
/// </summary>
public class LoginTransactionTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;
    private readonly WriteCounter _counter = new();

    public LoginTransactionTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
        var counter = _counter;
        factory.ConfigureTestServices = s =>
        {
            s.AddSingleton(counter);
            s.ConfigureDbContext<CimefDb>(o => o.AddInterceptors(counter));
            s.ConfigureDbContext<PostgresCimefDb>(o => o.AddInterceptors(counter));
        };
    }

    [Fact]
    public async Task A_successful_login_is_exactly_one_write_transaction()
    {
        var p = await _factory.Data.PatientAsync();
        var counter = _factory.Services.GetRequiredService<WriteCounter>();
        _factory.Services.GetRequiredService<HotQueries>().Observe(counter.Hook);
        var client = _factory.NewClient();
        await client.GetAsync("/patient"); // antiforgery cookie and token, before counting

        counter.Reset();
        var response = await client.LoginJsonAsync(p.Key, p.Password);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, TestDatabase.IsPostgres ? counter.WriteTransactions : counter.SqliteCommits);
        // Everything the success writes is in it: the session, the access count and one event.
        Assert.Equal(1, await _factory.WithDbAsync(db => db.PatientSessions.CountAsync(s => s.PatientAccessId == p.AccessId)));
        Assert.Equal(1, await _factory.WithDbAsync(db => db.PatientAccesses.Where(a => a.Id == p.AccessId).Select(a => a.AccessCount).SingleAsync()));
        Assert.Equal(1, await _factory.EventCountAsync(AccessEventKinds.LoginSuccess, p.AccessId));
    }

    [Fact]
    public async Task A_failed_login_is_exactly_one_write_transaction()
    {
        var p = await _factory.Data.PatientAsync();
        var counter = _factory.Services.GetRequiredService<WriteCounter>();
        _factory.Services.GetRequiredService<HotQueries>().Observe(counter.Hook);
        var client = _factory.NewClient();

        counter.Reset();
        var response = await client.LoginJsonAsync(p.Key, "ZZZZZZZZ");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(1, TestDatabase.IsPostgres ? counter.WriteTransactions : counter.SqliteCommits);
        Assert.Equal(1, await _factory.EventCountAsync(AccessEventKinds.LoginFailure, p.AccessId));
    }

    /// <summary>
    /// Counts the login request's write transactions: EF-committed transactions that ran a write, plus writes in
    /// autocommit mode. Only writes made while serving a login request count: the host's background jobs (first runs
    /// of retention and the monitor, timing flushes) write on their own schedule and are not the attempt's cost.
    /// </summary>
    public sealed class WriteCounter : DbConnectionInterceptor, IDbCommandInterceptor, IDbTransactionInterceptor
    {
        // The hosting layer sets the current request on a shared async-local when IHttpContextAccessor is registered
        // (Identity registers it); any accessor instance reads it.
        private static readonly Microsoft.AspNetCore.Http.HttpContextAccessor Http = new();

        private static bool InLogin() =>
            Http.HttpContext?.Request is { } r && (r.Path.StartsWithSegments("/api/patients/portal/login") || r.Path == "/patient");

        private readonly ConcurrentDictionary<DbTransaction, bool> _wrote = new();
        private int _writeTransactions;
        private int _sqliteCommits;

        public int WriteTransactions => Volatile.Read(ref _writeTransactions);
        public int SqliteCommits => Volatile.Read(ref _sqliteCommits);

        public void Reset()
        {
            Interlocked.Exchange(ref _writeTransactions, 0);
            Interlocked.Exchange(ref _sqliteCommits, 0);
        }

        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Hook(connection);

        public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Hook(connection);
            return Task.CompletedTask;
        }

        /// <summary>SQLite calls the hook once per committed write transaction (read-only ones do not commit anything).</summary>
        public void Hook(DbConnection connection)
        {
            if (connection is SqliteConnection { Handle: { } handle })
                SQLitePCL.raw.sqlite3_commit_hook(handle, _ =>
                {
                    if (InLogin()) Interlocked.Increment(ref _sqliteCommits);
                    return 0;
                }, null);
        }

        private void Seen(DbCommand command)
        {
            var sql = command.CommandText.TrimStart();
            var write = !sql.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase) && !sql.StartsWith("PRAGMA", StringComparison.OrdinalIgnoreCase);
            if (!write || !InLogin()) return;
            if (command.Transaction is { } tx) _wrote[tx] = true;
            else Interlocked.Increment(ref _writeTransactions);
        }

        public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
        { Seen(command); return result; }

        public ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        { Seen(command); return ValueTask.FromResult(result); }

        public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
        { Seen(command); return result; }

        public ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<int> result, CancellationToken cancellationToken = default)
        { Seen(command); return ValueTask.FromResult(result); }

        public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Committed(transaction);

        public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Committed(transaction);
            return Task.CompletedTask;
        }

        /// <summary>A transaction committed while serving a login: the login's own always writes (its reservation).</summary>
        private void Committed(DbTransaction transaction)
        {
            if (_wrote.TryRemove(transaction, out _) || InLogin()) Interlocked.Increment(ref _writeTransactions);
        }
    }
}
