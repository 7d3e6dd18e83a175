using System.Net;
using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Data;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
using Cimef.Site.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Cluster;

/// <summary>The flood limits hold across nodes, and the slow-portal alert sees every node's timings.</summary>
public class ClusterLimitsTests
{
    private static void Limits(CimefFactory f)
    {
        f.Settings["Portal:LoginRequestsPerMinutePerIp"] = "10";
        f.Settings["Staff:SignInRequestsPerMinutePerIp"] = "4";
        f.ConfigureTestServices = TestRemoteIp.AddTo;
    }

    [PostgresFact]
    public async Task The_login_flood_limit_holds_across_two_nodes_and_its_window_ends()
    {
        using var cluster = new TwoHosts(Limits);
        var nodes = new[] { TestRemoteIp.ClientFrom(cluster.A, "198.51.100.7"), TestRemoteIp.ClientFrom(cluster.B, "198.51.100.7") };
        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 16; i++) responses.Add(await nodes[i % 2].LoginJsonAsync(CredentialGenerator.NewKey(), "zzzz2222"));

        // Each node alone saw 8 requests (under its limit of 10), together 16: the shared window refused the last 6.
        Assert.All(responses.Take(10), r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
        Assert.All(responses.Skip(10), r => Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode));
        var refused = responses[^1];
        Assert.InRange(int.Parse(refused.Headers.GetValues("Retry-After").Single()), 1, 60);
        var body = await refused.JsonAsync();
        Assert.True(body.TryGetProperty("error", out _));
        Assert.True(body.TryGetProperty("retry_after", out _));
        // Another address is not affected.
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await TestRemoteIp.ClientFrom(cluster.B, "198.51.100.8").LoginJsonAsync(CredentialGenerator.NewKey(), "zzzz2222")).StatusCode);

        // The next minute is a new window; the ended one is purged by its first request.
        cluster.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.Unauthorized, (await nodes[1].LoginJsonAsync(CredentialGenerator.NewKey(), "zzzz2222")).StatusCode);
        var windows = await cluster.A.WithDbAsync(db => db.RateLimitCounters.Select(c => c.WindowStart).Distinct().ToListAsync());
        Assert.Equal(cluster.A.Time.GetUtcNow().UtcDateTime.AddSeconds(-cluster.A.Time.GetUtcNow().Second), Assert.Single(windows));
    }

    [PostgresFact]
    public async Task The_staff_sign_in_limit_holds_across_two_nodes()
    {
        using var cluster = new TwoHosts(Limits);
        var nodes = new[] { TestRemoteIp.ClientFrom(cluster.A, "198.51.100.9"), TestRemoteIp.ClientFrom(cluster.B, "198.51.100.9") };
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
            statuses.Add((await nodes[i % 2].PostFormAsync("/Account/SignIn",
                new() { ["Input.Email"] = "inconnu@cimef.test", ["Input.Password"] = "mauvais-mot-de-passe" }, tokenPage: "/Account/SignIn")).StatusCode);
        Assert.All(statuses.Take(4), s => Assert.NotEqual(HttpStatusCode.TooManyRequests, s));
        Assert.All(statuses.Skip(4), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
    }

    [Fact, Trait("Provider", "SqliteOnly")]
    public async Task On_sqlite_the_flood_limit_stays_in_memory_and_writes_nothing()
    {
        using var factory = new CimefFactory();
        Limits(factory);
        var client = TestRemoteIp.ClientFrom(factory, "198.51.100.10");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++) statuses.Add((await client.LoginJsonAsync(CredentialGenerator.NewKey(), "zzzz2222")).StatusCode);
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(0, await factory.WithDbAsync(db => db.RateLimitCounters.CountAsync()));
    }

    [Fact]
    public async Task The_slow_portal_alert_sees_both_nodes_where_neither_alone_crosses_it()
    {
        using var cluster = new TwoHosts();
        var now = cluster.A.Time.GetUtcNow().UtcDateTime;
        var aTimings = cluster.A.Services.GetRequiredService<PortalTimings>();
        var bTimings = cluster.B.Services.GetRequiredService<PortalTimings>();
        Task<IReadOnlyList<Alert>> EvaluateOnAAsync() =>
            cluster.A.WithScopeAsync(sp => sp.GetRequiredService<AlertRules>().EvaluateAsync(now));

        // Node A: 9 slow requests, below the 10 a p95 needs: no alert from A alone.
        for (var i = 0; i < 9; i++) aTimings.Record(now.AddMinutes(-2), 4000);
        Assert.DoesNotContain(await EvaluateOnAAsync(), a => a.Kind == AlertKinds.SlowResponses);

        // Node B: 9 slow requests too, flushed to the database (its minute flush); A's pass sees 18.
        for (var i = 0; i < 9; i++) bTimings.Record(now.AddMinutes(-1), 4000);
        await cluster.B.WithDbAsync(async db => { await bTimings.FlushAsync(db); return 0; });
        var alert = Assert.Single(await EvaluateOnAAsync(), a => a.Kind == AlertKinds.SlowResponses);
        Assert.Contains("(18 requêtes)", alert.Detail);
        Assert.Contains("5000 ms", alert.Detail);
        var nodes = await cluster.A.WithDbAsync(db => db.PortalTimings.Select(t => t.Node).Distinct().OrderBy(n => n).ToListAsync());
        Assert.Equal(["node-a", "node-b"], nodes);
    }
}
