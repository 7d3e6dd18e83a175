using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Data;

/// <summary>
/// The statements every patient request runs (the session check, with the dashboard's or the list's data), compiled
/// once. Microsoft.Data.Sqlite compiles the SQL of every new command (dotnet/efcore#14044); measured on the dashboard,
/// <c>sqlite3_prepare_v2</c> was a fifth of the request. On SQLite this keeps a few connections of its own open, each
/// keeping its commands, and so their compiled statements, by SQL text: a query takes one connection, binds, reads
/// and gives it back; those only read (<c>query_only</c>). The hot write transactions (a login attempt) run on one more
/// connection of its own, inside the write gate, with compiled statements too (<see cref="WriteAsync{T}"/>).
/// On PostgreSQL the same commands run on the request's EF connection and transaction.
/// </summary>
public sealed class HotQueries(IOptions<DatabaseOptions> database, IOptions<StorageOptions> storage, SqliteWriteGate gate) : IDisposable
{
    private Reader? _writer;
    private readonly List<Action<SqliteConnection>> _observers = [];

    /// <summary>Idle connections kept; a burst beyond it opens more and closes them afterwards.</summary>
    private const int MaxIdle = 6;

    private readonly ConcurrentStack<Reader> _idle = new();
    private volatile bool _disposed;

    /// <summary>The configured engine's SQL fragments (without building a context to ask it).</summary>
    public SqlDialect Dialect => database.Value.IsPostgres ? SqlDialect.Postgres : SqlDialect.Sqlite;

    /// <summary>Runs <paramref name="sql"/> with the parameters <paramref name="bind"/> adds, and reads its result(s).</summary>
    public Task<T> ReadAsync<T>(CimefDb db, string sql, Action<DbCommand> bind, Func<DbDataReader, Task<T>> read, CancellationToken ct) =>
        ReadAsync(() => db, sql, bind, read, ct);

    /// <summary>The same, asking for the request's context only on PostgreSQL (building one is a cost the SQLite path skips).</summary>
    public async Task<T> ReadAsync<T>(Func<CimefDb> context, string sql, Action<DbCommand> bind, Func<DbDataReader, Task<T>> read, CancellationToken ct)
    {
        if (database.Value.IsPostgres)
        {
            var db = context();
            await db.Database.OpenConnectionAsync(ct);
            await using var cmd = db.Database.GetDbConnection().CreateCommand();
            cmd.CommandText = sql;
            bind(cmd);
            await using var results = await cmd.ExecuteReaderAsync(ct);
            return await read(results);
        }

        var reader = Rent();
        try
        {
            var cmd = reader.Command(sql);
            cmd.Parameters.Clear();
            bind(cmd);
            T value;
            // SQLite runs the statement in this thread: the reads complete synchronously.
            using (var results = cmd.ExecuteReader()) value = await read(results);
            Return(reader);
            return value;
        }
        catch
        {
            reader.Dispose(); // never reuse a connection left in an unknown state
            throw;
        }
    }

    /// <summary>
    /// One write transaction: on SQLite inside the write gate, on this class's writer connection, BEGIN IMMEDIATE (the
    /// write lock first), statements compiled once, all of it in the calling thread (SQLite's calls complete
    /// synchronously: the gate is never held across a thread switch); on PostgreSQL an EF transaction. Commits when
    /// <paramref name="work"/> returns; nothing is kept when it throws.
    /// </summary>
    public Task<T> WriteAsync<T>(CimefDb db, Func<Commands, Task<T>> work, CancellationToken ct) => WriteAsync(() => db, work, ct);

    /// <summary>The same, asking for the request's context only on PostgreSQL.</summary>
    public async Task<T> WriteAsync<T>(Func<CimefDb> context, Func<Commands, Task<T>> work, CancellationToken ct)
    {
        if (database.Value.IsPostgres)
        {
            var db = context();
            await db.Database.OpenConnectionAsync(ct);
            await using var pgTx = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
            var connection = db.Database.GetDbConnection();
            var transaction = Microsoft.EntityFrameworkCore.Storage.DbContextTransactionExtensions.GetDbTransaction(db.Database.CurrentTransaction!);
            var value = await work(new Commands(sql =>
            {
                var cmd = connection.CreateCommand();
                cmd.CommandText = sql;
                cmd.Transaction = transaction;
                return cmd;
            }, dispose: true));
            if (pgTx is not null) await pgTx.CommitAsync(ct);
            return value;
        }

        using (await gate.EnterAsync(ct))
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var writer = _writer ??= Observed(new Reader(storage.Value.DatabasePath, readOnly: false));
            try
            {
                using var tx = writer.Connection.BeginTransaction(); // Microsoft.Data.Sqlite: BEGIN IMMEDIATE
                var value = await work(new Commands(sql =>
                {
                    var cmd = writer.Command(sql);
                    cmd.Transaction = tx;
                    cmd.Parameters.Clear();
                    return cmd;
                }, dispose: false));
                tx.Commit();
                return value;
            }
            catch
            {
                _writer = null; // a connection left in an unknown state is not reused
                writer.Dispose();
                throw;
            }
        }
    }

    /// <summary>Runs <paramref name="observe"/> on each connection this class opens (now and later): the tests hook SQLite's commit counter.</summary>
    public void Observe(Action<SqliteConnection> observe)
    {
        lock (_observers) _observers.Add(observe);
        foreach (var reader in _idle) observe(reader.Connection);
        if (_writer is { } w) observe(w.Connection);
    }

    private Reader Observed(Reader reader)
    {
        lock (_observers) foreach (var o in _observers) o(reader.Connection);
        return reader;
    }

    /// <summary>The statements of one write transaction, by SQL text.</summary>
    public sealed class Commands(Func<string, DbCommand> command, bool dispose)
    {
        public async Task<int> ExecuteAsync(string sql, Action<DbCommand> bind, CancellationToken ct)
        {
            var cmd = Bound(sql, bind);
            try { return await cmd.ExecuteNonQueryAsync(ct); }
            finally { if (dispose) await cmd.DisposeAsync(); }
        }

        public async Task<T> ReadAsync<T>(string sql, Action<DbCommand> bind, Func<DbDataReader, Task<T>> read, CancellationToken ct)
        {
            var cmd = Bound(sql, bind);
            try
            {
                await using var results = await cmd.ExecuteReaderAsync(ct);
                return await read(results);
            }
            finally { if (dispose) await cmd.DisposeAsync(); }
        }

        private DbCommand Bound(string sql, Action<DbCommand> bind)
        {
            var cmd = command(sql);
            bind(cmd);
            return cmd;
        }
    }

    /// <summary>Adds a named parameter (the same text serves SQLite and PostgreSQL).</summary>
    public static void Add(DbCommand cmd, string name, object? value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = "@" + name; // as written in the SQL: Microsoft.Data.Sqlite finds it without trying prefixes
        p.Value = value ?? DBNull.Value;
        cmd.Parameters.Add(p);
    }

    public static long Long(DbDataReader r, int i) => Convert.ToInt64(r.GetValue(i), CultureInfo.InvariantCulture);

    /// <summary>Every stored time is UTC (as EF reads it); SQLite keeps it as text without a zone.</summary>
    public static DateTime Date(DbDataReader r, int i) => DateTime.SpecifyKind(r.GetDateTime(i), DateTimeKind.Utc);

    public static DateTime? NullableDate(DbDataReader r, int i) => r.IsDBNull(i) ? null : Date(r, i);

    public static string? NullableString(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private Reader Rent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _idle.TryPop(out var reader) ? reader : Observed(new Reader(storage.Value.DatabasePath, readOnly: true));
    }

    private void Return(Reader reader)
    {
        if (_disposed || _idle.Count >= MaxIdle) reader.Dispose();
        else _idle.Push(reader);
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryPop(out var reader)) reader.Dispose();
        _writer?.Dispose();
    }

    /// <summary>One open connection and its commands by SQL text (a handful: the patient statements).</summary>
    private sealed class Reader : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

        public SqliteConnection Connection => _connection;

        public Reader(string databasePath, bool readOnly)
        {
            // Not from the pool: a pooled connection's statements are finalised when it goes back to the pool.
            _connection = new SqliteConnection(new SqliteConnectionStringBuilder(Sqlite.ConnectionString(databasePath)) { Pooling = false }.ToString());
            _connection.Open();
            using var pragmas = _connection.CreateCommand();
            pragmas.CommandText = Sqlite.PerConnectionPragmas + (readOnly ? " PRAGMA query_only=ON;" : "");
            pragmas.ExecuteNonQuery();
        }

        public SqliteCommand Command(string sql)
        {
            if (_commands.TryGetValue(sql, out var cmd)) return cmd;
            cmd = _connection.CreateCommand();
            cmd.CommandText = sql;
            _commands[sql] = cmd;
            return cmd;
        }

        public void Dispose()
        {
            foreach (var cmd in _commands.Values) cmd.Dispose();
            _connection.Dispose();
        }
    }
}
