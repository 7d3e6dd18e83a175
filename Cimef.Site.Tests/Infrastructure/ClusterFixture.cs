using Cimef.Site.Tests.Notifications;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Infrastructure;

/// <summary>
/// Two real site processes (the built Cimef.Site.dll, <see cref="SiteServer"/>) on one PostgreSQL database of the test
/// cluster (<see cref="PostgresCluster"/>), each on its own loopback port and data directory, with the same
/// configuration: the same connection string, the same S3 bucket (<see cref="S3Server"/>), the same loopback SMTP server (<see cref="LoopbackSmtp"/>), the key ring
/// and credential secret in that database (the PostgreSQL default), and job intervals of a second or so. An in-process
/// <see cref="Seeder"/> on the same database creates test data (its background jobs never tick: its clock is fake).
/// Started only on the PostgreSQL pass (<c>CIMEF_TEST_PROVIDER=Postgres</c>): on SQLite a site has one node.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const string LeaseSeconds = "5";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cimef-cluster", Guid.NewGuid().ToString("N"));
    private readonly SiteServer?[] _nodes = new SiteServer?[2];

    public static readonly string[] NodeNames = ["node-a", "node-b"];
    public S3CimefFactory Seeder { get; } = new();
    public int SmtpPort { get; } = FreePort.Next();
    public LoopbackSmtp Smtp { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";

    public SiteServer Node(int i) => _nodes[i] ?? throw new InvalidOperationException($"{NodeNames[i]} is not running.");
    public string NodeDir(int i) => Path.Combine(_root, NodeNames[i]);

    /// <summary>The configuration both nodes share (and one setting of their own: the node name).</summary>
    public IDictionary<string, string> SettingsFor(int i)
    {
        var settings = new Dictionary<string, string>
        {
            ["Database__Provider"] = "Postgres",
            ["Database__ConnectionString"] = ConnectionString,
            ["Email__Smtp__Host"] = "127.0.0.1",
            ["Email__Smtp__Port"] = SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Email__Smtp__Security"] = "None",
            ["Notifications__PollSeconds"] = "1",
            ["Notifications__LeaseSeconds"] = LeaseSeconds,
            ["Cluster__JobCheckSeconds"] = "1",
            ["Cluster__NodeName"] = NodeNames[i],
            // The tests stand in for a proxy on loopback: each test's client address comes in X-Forwarded-For.
            ["Network__KnownProxies__0"] = "127.0.0.1",
            ["Logging__LogLevel__Default"] = "Warning",
            // The nodes share the key ring in the database without a certificate: accepted explicitly, as a clinic must.
            ["KeyRing__AllowUnprotected"] = "true",
        };
        // One bucket for both nodes and the seeder: a report stored by one is read by the others.
        foreach (var (key, value) in Seeder.S3.Settings()) settings[key.Replace(":", "__", StringComparison.Ordinal)] = value!;
        return settings;
    }

    public async Task InitializeAsync()
    {
        if (!TestDatabase.IsPostgres) return;
        // The seeder migrates the database and creates the key ring and the credential secret in it, for both nodes.
        Seeder.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("cluster").Protect("start"u8.ToArray());
        ConnectionString = TestDatabase.SettingsFor(Seeder.DataDir)["Database:ConnectionString"];
        Smtp = await LoopbackSmtp.StartAsync(SmtpPort);
        for (var i = 0; i < _nodes.Length; i++) await StartAsync(i);
    }

    /// <summary>Starts node <paramref name="i"/> (again) on its data directory.</summary>
    public async Task StartAsync(int i)
    {
        if (_nodes[i] is { HasExited: false }) return;
        if (_nodes[i] is { } old) await old.DisposeAsync();
        _nodes[i] = await SiteServer.StartAsync(NodeDir(i), SettingsFor(i));
    }

    /// <summary>SIGKILL: the node dies mid-whatever (no shutdown, its database sessions are cut by the kernel).</summary>
    public Task KillAsync(int i) => Node(i).KillAsync();

    /// <summary>Graceful stop (SIGTERM).</summary>
    public Task StopAsync(int i) => Node(i).StopAsync();

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
            if (node is not null) await node.DisposeAsync();
        if (Smtp is not null) await Smtp.DisposeAsync();
        for (var i = 0; i < _nodes.Length; i++) TestDatabase.Release(NodeDir(i));
        Seeder.Dispose();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
