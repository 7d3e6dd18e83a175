using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Cimef.Site.Tests.Infrastructure;

/// <summary>Which engine the suite runs on: SQLite unless <c>CIMEF_TEST_PROVIDER=Postgres</c>.</summary>
public static class TestDatabase
{
    public static bool IsPostgres { get; } =
        string.Equals(Environment.GetEnvironmentVariable("CIMEF_TEST_PROVIDER"), "Postgres", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The settings that put a site on the test engine, keyed by its data directory: a test host and a CLI process
    /// started on the same data directory share one database, as they share one SQLite file. Empty on SQLite.
    /// </summary>
    public static IReadOnlyDictionary<string, string> SettingsFor(string dataDir) => IsPostgres
        ? new Dictionary<string, string>
        {
            ["Database:Provider"] = "Postgres",
            ["Database:ConnectionString"] = PostgresCluster.Instance.DatabaseFor(dataDir),
            // PostgreSQL keeps the key ring in the database by default; the tests run without a certificate.
            ["KeyRing:AllowUnprotected"] = "true",
        }
        : new Dictionary<string, string>();

    /// <summary>The same settings as environment variables (Section__Key) for a child process.</summary>
    public static IReadOnlyDictionary<string, string> EnvironmentFor(string dataDir) =>
        SettingsFor(dataDir).ToDictionary(kv => kv.Key.Replace(":", "__"), kv => kv.Value);

    /// <summary>Drops the data directory's database (PostgreSQL); nothing on SQLite, whose file goes with the folder.</summary>
    public static void Release(string dataDir)
    {
        if (IsPostgres) PostgresCluster.Instance.Drop(dataDir);
    }
}

/// <summary>
/// One throwaway PostgreSQL cluster per test run, started on first use: initdb in a temp directory as the postgres
/// user (initdb refuses root), pg_ctl start on a free loopback port with its socket in that directory, fsync off,
/// max_connections raised for parallel test classes. Stopped and deleted when the test process exits; a cluster left
/// by a killed run is stopped and deleted by the next one.
/// </summary>
public sealed class PostgresCluster
{
    private static readonly Lazy<PostgresCluster> Shared = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);
    public static PostgresCluster Instance => Shared.Value;

    private const string Prefix = "cimef-pg-";
    private readonly ConcurrentDictionary<string, Lazy<string>> _databases = new();
    private readonly string _bin;

    public string Directory { get; }
    public int Port { get; }
    private string DataDirectory => Path.Combine(Directory, "data");

    private PostgresCluster(string bin, string directory, int port)
    {
        _bin = bin;
        Directory = directory;
        Port = port;
    }

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = database,
        // One pool per test database and dozens of databases per run: small pools whose idle connections close soon,
        // so the run stays far below max_connections (a full cluster answers 53300 "too many clients" at random).
        MaxPoolSize = 60, // LoginThrottleTests holds 50 connections at once
        ConnectionIdleLifetime = 10,
        ConnectionPruningInterval = 5,
        Timeout = 30,
    }.ToString();

    /// <summary>The connection string of the database that belongs to <paramref name="key"/> (created on first request).</summary>
    public string DatabaseFor(string key)
    {
        var name = DatabaseName(key);
        return _databases.GetOrAdd(name, n => new Lazy<string>(() =>
        {
            Admin($"CREATE DATABASE \"{n}\"");
            return ConnectionString(n);
        })).Value;
    }

    public void Drop(string key)
    {
        var name = DatabaseName(key);
        if (!_databases.TryRemove(name, out _)) return;
        Admin($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    }

    private static string DatabaseName(string key) =>
        "cimef_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(key).TrimEnd('/'))))[..24];

    private void Admin(string sql)
    {
        var b = new NpgsqlConnectionStringBuilder(ConnectionString("postgres")) { Pooling = false };
        using var c = new NpgsqlConnection(b.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static PostgresCluster Start()
    {
        var bin = Environment.GetEnvironmentVariable("CIMEF_PG_BIN") ?? FindBin();
        RemoveAbandoned(bin);
        var dir = Path.Combine("/tmp", Prefix + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(dir);
        if (IsRoot) Run("chown", "postgres:postgres", dir);
        var cluster = new PostgresCluster(bin, dir, FreePort());
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.Stop();
        cluster.Watch();
        AsPostgres(Path.Combine(bin, "initdb"), "-D", cluster.DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync");
        AsPostgres(Path.Combine(bin, "pg_ctl"), "-D", cluster.DataDirectory, "-l", Path.Combine(dir, "server.log"), "-w", "-t", "60",
            "-o", $"-c listen_addresses=127.0.0.1 -p {cluster.Port} -k {dir} -c max_connections=1000 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            "start");
        return cluster;
    }

    private void Stop()
    {
        try { AsPostgres(Path.Combine(_bin, "pg_ctl"), "-D", DataDirectory, "-m", "immediate", "-w", "stop"); }
        catch (InvalidOperationException) { }
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// A watchdog shell that stops and deletes the cluster once this process is gone, however it ends (the test host
    /// may be ended without running exit handlers).
    /// </summary>
    private void Watch()
    {
        var stop = IsRoot
            ? $"runuser -u postgres -- '{_bin}/pg_ctl' -D '{DataDirectory}' -m immediate -w stop"
            : $"'{_bin}/pg_ctl' -D '{DataDirectory}' -m immediate -w stop";
        var script = $"while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{Directory}'";
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        foreach (var a in new[] { "sh", "-c", script }) psi.ArgumentList.Add(a);
        Process.Start(psi)!.Dispose();
    }

    /// <summary>Clusters of test processes that no longer run (killed before their exit handler): stopped and deleted.</summary>
    private static void RemoveAbandoned(string bin)
    {
        foreach (var dir in System.IO.Directory.GetDirectories("/tmp", Prefix + "*"))
        {
            var pid = Path.GetFileName(dir)[Prefix.Length..].Split('-')[0];
            if (int.TryParse(pid, out var id) && ProcessAlive(id)) continue;
            new PostgresCluster(bin, dir, 0).Stop();
        }
    }

    private static bool ProcessAlive(int pid)
    {
        try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
    }

    internal static string FindBin()
    {
        var versions = System.IO.Directory.Exists("/usr/lib/postgresql")
            ? System.IO.Directory.GetDirectories("/usr/lib/postgresql").Where(d => File.Exists(Path.Combine(d, "bin", "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0).ToList()
            : [];
        if (versions.Count == 0)
            throw new InvalidOperationException("CIMEF_TEST_PROVIDER=Postgres needs the PostgreSQL server (apt-get install postgresql) or CIMEF_PG_BIN.");
        return Path.Combine(versions[0], "bin");
    }

    internal static bool IsRoot => Environment.UserName == "root";

    internal static void AsPostgres(string file, params string[] args)
    {
        if (IsRoot) Run("runuser", ["-u", "postgres", "--", file, .. args]);
        else Run(file, args);
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/tmp" };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr} {stdout.Result}");
    }

    internal static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
