using System.Net;
using Cimef.Site.Access;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Web;

/// <summary>The flood limiter counts IPv6 per /64; /healthz is behind it and writes no file per call.</summary>
public class FloodLimitTests : IClassFixture<FloodLimitTests.Factory>
{
    public sealed class Factory : CimefFactory
    {
        public Factory()
        {
            Settings["Portal:LoginRequestsPerMinutePerIp"] = "50";
            ConfigureTestServices = TestRemoteIp.AddTo;
        }
    }

    private readonly Factory _factory;
    public FloodLimitTests(Factory factory) => _factory = factory;

    private HttpClient From(string ip) => TestRemoteIp.ClientFrom(_factory, ip);

    [Fact]
    public async Task A_login_flood_from_many_addresses_of_one_ipv6_64_is_limited_as_one_address()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 1; i <= 60; i++)
            statuses.Add((await From($"2001:db8:99:1:{i:x}::{i:x}").LoginJsonAsync(CredentialGenerator.NewKey(), "zzzz2222")).StatusCode);
        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests }));
        Assert.All(statuses.Skip(50), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        // Only the 50 requests the limiter let through reached the throttle.
        Assert.Equal(50, await _factory.WithDbAsync(db => db.LoginFailures.CountAsync(f => f.ClientIp == "2001:db8:99:1::/64")));
        Assert.Equal(HttpStatusCode.Unauthorized, (await From("2001:db8:99:2::1").LoginJsonAsync(CredentialGenerator.NewKey(), "zzzz2222")).StatusCode);
    }

    [Fact]
    public async Task Healthz_gets_429_under_a_flood()
    {
        var client = From("192.0.2.7");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 70; i++) statuses.Add((await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, statuses[0]);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.DoesNotContain(HttpStatusCode.ServiceUnavailable, statuses);
        Assert.Equal(HttpStatusCode.OK, (await From("192.0.2.8").GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Healthz_reuses_its_storage_probe_for_a_few_seconds_instead_of_writing_a_file_per_call()
    {
        var client = From("192.0.2.9");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        var reports = Path.Combine(_factory.DataDir, "reports");
        var aside = reports + ".aside";
        Directory.Move(reports, aside);
        await File.WriteAllTextAsync(reports, "a file where the folder was: any probe write fails");
        try
        {
            // Within the cache period no probe is written, so the broken folder is not noticed yet.
            for (var i = 0; i < 20; i++) Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
            _factory.Time.Advance(TimeSpan.FromSeconds(6));
            var probed = await client.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, probed.StatusCode);
            Assert.Equal("error", (await probed.JsonAsync()).GetProperty("storage").GetString());
        }
        finally
        {
            File.Delete(reports);
            Directory.Move(aside, reports);
        }
        _factory.Time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Empty(Directory.GetFiles(reports, ".health-*"));
    }
}
