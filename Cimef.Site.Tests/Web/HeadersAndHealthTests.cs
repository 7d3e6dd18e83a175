using System.Net;
using Cimef.Site.Tests.Infrastructure;

namespace Cimef.Site.Tests.Web;

public class HeadersAndHealthTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Theory]
    [InlineData("/Account/SignIn")]
    [InlineData("/healthz")]
    [InlineData("/does-not-exist")]
    public async Task Every_response_carries_the_security_headers(string url)
    {
        var response = await factory.NewClient().GetAsync(url);
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'self'", csp);
        Assert.Contains("script-src 'self'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public async Task Healthz_reports_database_and_storage()
    {
        var response = await factory.NewClient().GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.JsonAsync();
        Assert.Equal("ok", json.GetProperty("status").GetString());
        Assert.Equal("ok", json.GetProperty("database").GetString());
        Assert.Equal("ok", json.GetProperty("storage").GetString());
    }

    [Fact]
    public async Task Liveness_and_readiness_answer_apart_from_healthz()
    {
        var client = factory.NewClient();
        var live = await client.GetAsync("/healthz/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("ok", (await live.JsonAsync()).GetProperty("status").GetString());

        var ready = await client.GetAsync("/healthz/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var json = await ready.JsonAsync();
        Assert.Equal("ok", json.GetProperty("status").GetString());
        Assert.Equal("ok", json.GetProperty("database").GetString());
        Assert.Equal("ok", json.GetProperty("storage").GetString());
        Assert.Equal("ok", json.GetProperty("key_ring").GetString());
    }

    [Fact]
    public async Task Unknown_page_is_a_french_404()
    {
        var response = await factory.NewClient().GetAsync("/nulle-part");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Page introuvable", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Fingerprinted_static_files_are_immutable_and_compressed()
    {
        var client = factory.NewClient();
        var html = await client.GetStringAsync("/Account/SignIn");
        var href = System.Text.RegularExpressions.Regex.Match(html, "href=\"(/css/site\\.css\\?v=[^\"]+)\"").Groups[1].Value;
        Assert.NotEqual("", href);
        var request = new HttpRequestMessage(HttpMethod.Get, href);
        request.Headers.Add("Accept-Encoding", "br");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("immutable", response.Headers.CacheControl!.ToString());
        Assert.Equal("br", response.Content.Headers.ContentEncoding.Single());
    }

    [Fact]
    public async Task Htmx_is_served_from_the_web_root()
    {
        var response = await factory.NewClient().GetAsync("/lib/htmx/htmx.min.js");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("htmx", await response.Content.ReadAsStringAsync());
    }
}
