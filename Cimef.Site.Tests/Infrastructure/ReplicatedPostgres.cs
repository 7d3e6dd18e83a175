using System.Diagnostics;
using Npgsql;

namespace Cimef.Site.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL primary and its streaming replica, as README's several-node layout has them: the replica made with
/// <c>pg_basebackup -R</c> and kept synchronous (<c>synchronous_standby_names = '*'</c>), so a commit the primary
/// acknowledged is on the replica too and survives the primary's death. <see cref="KillPrimary"/> is SIGKILL of the
/// postmaster (a power cut of the database machine), <see cref="Promote"/> what the operator runs next. Both servers on
/// loopback, in one temp directory owned by the postgres user, stopped and deleted on dispose.
/// </summary>
public sealed class ReplicatedPostgres : IDisposable
{
    public const string Database = "cimef";
    private readonly string _bin = Environment.GetEnvironmentVariable("CIMEF_PG_BIN") ?? PostgresCluster.FindBin();
    private readonly string _dir = Path.Combine("/tmp", "cimef-pgrepl-" + Guid.NewGuid().ToString("N")[..12]);

    public int PrimaryPort { get; } = PostgresCluster.FreePort();
    public int ReplicaPort { get; } = PostgresCluster.FreePort();
    private string PrimaryData => Path.Combine(_dir, "primary");
    private string ReplicaData => Path.Combine(_dir, "replica");

    public ReplicatedPostgres()
    {
        Directory.CreateDirectory(_dir);
        if (PostgresCluster.IsRoot) Run("chown", "postgres:postgres", _dir);
        PostgresCluster.AsPostgres(Path.Combine(_bin, "initdb"), "-D", PrimaryData, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync");
        Start(PrimaryData, PrimaryPort, "-c synchronous_standby_names='*' -c synchronous_commit=on -c wal_level=replica -c max_wal_senders=5");
        PostgresCluster.AsPostgres(Path.Combine(_bin, "pg_basebackup"), "-D", ReplicaData, "-h", "127.0.0.1", "-p", PrimaryPort.ToString(), "-U", "postgres",
            "-R", "-X", "stream", "--no-sync");
        Start(ReplicaData, ReplicaPort, "-c hot_standby=on");
        using (var c = new NpgsqlConnection(ConnectionString(PrimaryPort, "postgres")))
        {
            c.Open();
            using var cmd = new NpgsqlCommand($"CREATE DATABASE {Database}", c);
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>What the nodes use: both hosts, the writable one chosen at each connection.</summary>
    public string MultiHostConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = $"127.0.0.1:{PrimaryPort},127.0.0.1:{ReplicaPort}",
        Username = "postgres",
        Database = Database,
        TargetSessionAttributes = "primary",
        Timeout = 5,
        MaxPoolSize = 40,
    }.ToString();

    /// <summary>One server, for the test's own reads after the failover.</summary>
    public string ConnectionString(int port, string database = Database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = port, Username = "postgres", Database = database, Pooling = false,
    }.ToString();

    public void KillPrimary()
    {
        var pid = int.Parse(File.ReadLines(Path.Combine(PrimaryData, "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);
        Run("kill", "-KILL", pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public void Promote() => PostgresCluster.AsPostgres(Path.Combine(_bin, "pg_ctl"), "-D", ReplicaData, "-w", "-t", "60", "promote");

    private void Start(string data, int port, string settings) =>
        PostgresCluster.AsPostgres(Path.Combine(_bin, "pg_ctl"), "-D", data, "-l", data + ".log", "-w", "-t", "60",
            "-o", $"-c listen_addresses=127.0.0.1 -p {port} -k {_dir} -c max_connections=300 -c fsync=off -c full_page_writes=off {settings}", "start");

    public void Dispose()
    {
        foreach (var data in new[] { ReplicaData, PrimaryData })
        {
            try { PostgresCluster.AsPostgres(Path.Combine(_bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"); }
            catch (InvalidOperationException) { } // already dead (the killed primary)
        }
        // A postmaster killed with SIGKILL leaves its children running a moment; they exit on their own.
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true })!;
        p.WaitForExit();
    }
}
