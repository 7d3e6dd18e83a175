using Cimef.Site.Data;
using Cimef.Site.Tests.Data;
using Cimef.Site.Tests.Infrastructure;
using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace Cimef.Site.Tests.Cluster;

/// <summary>
/// Three real site processes started at the same moment on one PostgreSQL database: empty, half-migrated, or left by
/// the previous release (every migration but the last). All three must come up, exactly one applying what is pending
/// while the others wait for it. PostgreSQL pass only: a SQLite site is one process.
/// </summary>
public class StartTogetherTests
{
    private const int Nodes = 3;

    public static TheoryData<string> Databases => new() { "empty", "half-migrated", "outdated" };

    [PostgresTheory, MemberData(nameof(Databases))]
    public async Task Three_nodes_started_together_all_come_up_and_one_migrates(string state)
    {
        var root = Path.Combine(Path.GetTempPath(), "cimef-start", Guid.NewGuid().ToString("N"));
        var connection = PostgresCluster.Instance.DatabaseFor(root);
        var known = DatabaseStartup.KnownMigrations(sqlite: false);
        var target = state switch { "half-migrated" => known[known.Count / 2 - 1], "outdated" => known[^2], _ => null };
        if (target is not null)
        {
            await using var db = new PostgresCimefDb(new DbContextOptionsBuilder<PostgresCimefDb>().UseNpgsql(connection).Options);
            await db.GetService<IMigrator>().MigrateAsync(target);
        }
        var pending = known.Count - (target is null ? 0 : known.ToList().IndexOf(target) + 1);

        var servers = new List<SiteServer>();
        try
        {
            var starts = Enumerable.Range(0, Nodes).Select(i => SiteServer.StartAsync(Path.Combine(root, $"node-{i}"), new Dictionary<string, string>
            {
                ["Database__Provider"] = "Postgres",
                ["Database__ConnectionString"] = connection,
                ["Cluster__NodeName"] = $"node-{i}",
                ["KeyRing__AllowUnprotected"] = "true",
                ["Logging__LogLevel__Cimef.Startup"] = "Information",
            }, startWithin: TimeSpan.FromMinutes(3))).ToList();
            // Every start awaited before any failure is reported, so no process outlives the test.
            var results = await Task.WhenAll(starts.Select(async start =>
            {
                try { return (Server: await start, Error: (Exception?)null); }
                catch (Exception e) { return (Server: (SiteServer?)null, Error: e); }
            }));
            servers.AddRange(results.Where(r => r.Server is not null).Select(r => r.Server!));
            if (results.FirstOrDefault(r => r.Error is not null).Error is { } failure) throw failure;

            var migrated = servers.Where(s => s.Output.Any(l => l.Contains($"Applied {pending} migration(s)", StringComparison.Ordinal))).ToList();
            Assert.Single(migrated);
            Assert.All(servers.Except(migrated), s => Assert.DoesNotContain(s.Output, l => l.Contains("Applied", StringComparison.Ordinal)));
            Assert.All(servers, s => Assert.DoesNotContain(s.Output, l => l.Contains("Unhandled", StringComparison.Ordinal) || l.Contains("already exists", StringComparison.Ordinal)));

            await using var check = new NpgsqlConnection(connection);
            var applied = (await check.QueryAsync<string>("""SELECT "MigrationId" FROM "__EFMigrationsHistory" """)).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(known, applied);
            using var http = new HttpClient();
            foreach (var server in servers)
                Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync(server.Address + "/healthz/ready")).StatusCode);
        }
        finally
        {
            foreach (var server in servers) await server.DisposeAsync();
            PostgresCluster.Instance.Drop(root);
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }
}
