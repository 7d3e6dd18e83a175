using System.Net;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;

namespace Cimef.Site.Tests.Reports;

/// <summary>The code POST on /s/{token} is capped per client address by the built-in rate limiter (429 + Retry-After).</summary>
public class ShareFloodTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public ShareFloodTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "4";
    }

    [Fact]
    public async Task A_flood_of_code_posts_from_one_address_gets_429_while_reading_the_link_is_not_capped()
    {
        var client = _factory.NewClient();
        var token = new string('A', 22); // well formed, unknown: the limiter answers before any lookup
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
            statuses.Add((await client.PostFormAsync($"/s/{token}", new() { ["code"] = "123456" }, tokenPage: "/Account/SignIn")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, statuses[0]);
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        for (var i = 0; i < 6; i++)
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/s/{token}")).StatusCode);
        var limited = await client.PostFormAsync($"/s/{token}", new() { ["code"] = "123456" }, tokenPage: "/Account/SignIn");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.Contains("Retry-After"));
    }
}
