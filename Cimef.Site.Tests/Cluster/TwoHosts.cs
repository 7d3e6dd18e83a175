using Cimef.Site.Tests.Infrastructure;

namespace Cimef.Site.Tests.Cluster;

/// <summary>
/// Two in-process hosts on ONE database, as two nodes of a cluster: node B gets node A's database (PostgreSQL: its
/// connection string, with a data directory of its own; SQLite: A's data directory, the only way to share the file).
/// Each has its own node name and its own fake clock (advance both).
/// </summary>
public sealed class TwoHosts : IDisposable
{
    public CimefFactory A { get; }
    public CimefFactory B { get; }

    public TwoHosts(Action<CimefFactory>? configure = null)
    {
        A = new CimefFactory();
        B = new CimefFactory();
        foreach (var (node, name) in new[] { (A, "node-a"), (B, "node-b") })
        {
            node.Settings["Cluster:NodeName"] = name;
            configure?.Invoke(node);
        }
        if (TestDatabase.IsPostgres) B.Settings["Database:ConnectionString"] = TestDatabase.SettingsFor(A.DataDir)["Database:ConnectionString"];
        else B.Settings["Storage:DataDirectory"] = A.DataDir;
        _ = A.Server; // migrations run once, on A, before B starts
        _ = B.Server;
    }

    public void Advance(TimeSpan by)
    {
        A.Time.Advance(by);
        B.Time.Advance(by);
    }

    public void Dispose()
    {
        B.Dispose();
        A.Dispose();
    }
}
