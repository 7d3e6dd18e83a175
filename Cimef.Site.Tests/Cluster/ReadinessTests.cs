using System.Net;
using Cimef.Site.Tests.Data;
using Cimef.Site.Tests.Infrastructure;
using Npgsql;

namespace Cimef.Site.Tests.Cluster;

/// <summary>
/// A node whose database goes away stays alive (its supervisor must not restart it) but stops being ready (the load
/// balancer sends it nothing), and is ready again as soon as the database is back. A real site process on PostgreSQL,
/// whose database refuses connections for a while. PostgreSQL pass only.
/// </summary>
public class ReadinessTests
{
    [PostgresFact]
    public async Task A_node_that_lost_its_database_is_alive_but_not_ready_until_it_comes_back()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "cimef-ready", Guid.NewGuid().ToString("N"));
        var connection = PostgresCluster.Instance.DatabaseFor(dataDir);
        var database = new NpgsqlConnectionStringBuilder(connection).Database!;
        var admin = new NpgsqlConnectionStringBuilder(connection) { Database = "postgres", Pooling = false }.ToString();
        var node = await SiteServer.StartAsync(dataDir, new Dictionary<string, string> { ["KeyRing__AllowUnprotected"] = "true" });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(node.Address + "/healthz/ready")).StatusCode);

            await AdminAsync(admin, $"""ALTER DATABASE "{database}" ALLOW_CONNECTIONS false""",
                $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'");
            var ready = await http.GetAsync(node.Address + "/healthz/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal("error", (await ready.JsonAsync()).GetProperty("database").GetString());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(node.Address + "/healthz/live")).StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync(node.Address + "/healthz")).StatusCode);

            await AdminAsync(admin, $"""ALTER DATABASE "{database}" ALLOW_CONNECTIONS true""");
            // The pool notices its broken connections on use: ready again within a few probes, not necessarily the first.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            HttpStatusCode status;
            while ((status = (await http.GetAsync(node.Address + "/healthz/ready")).StatusCode) != HttpStatusCode.OK && DateTime.UtcNow < deadline)
                await Task.Delay(1000); // the node's own pool recovers on its real clock
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.False(node.HasExited);
        }
        finally
        {
            await AdminAsync(admin, $"""ALTER DATABASE "{database}" ALLOW_CONNECTIONS true""");
            await node.DisposeAsync();
            PostgresCluster.Instance.Drop(dataDir);
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task AdminAsync(string connection, params string[] statements)
    {
        await using var c = new NpgsqlConnection(connection);
        await c.OpenAsync();
        foreach (var sql in statements)
        {
            await using var cmd = new NpgsqlCommand(sql, c);
            await cmd.ExecuteNonQueryAsync();
        }
    }
}
