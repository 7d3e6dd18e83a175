using System.Net;
using System.Text.RegularExpressions;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Web;

/// <summary>The site behind a TLS-terminating reverse proxy at 10.0.0.1 (Network:KnownProxies), Kestrel on plain HTTP.</summary>
public sealed class BehindProxyFactory : CimefFactory
{
    public BehindProxyFactory()
    {
        Settings["Network:KnownProxies:0"] = "10.0.0.1";
        // The test server has no socket: every request comes from the proxy's address.
        ConfigureTestServices = s => s.AddTransient<IStartupFilter, FromProxy>();
    }

    private sealed class FromProxy : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((http, go) =>
            {
                http.Connection.RemoteIpAddress = IPAddress.Parse("10.0.0.1");
                return go(http);
            });
            next(app);
        };
    }

    /// <summary>Plain HTTP between proxy and site, on a real host name (HSTS is never sent for localhost), no cookie jar.</summary>
    public HttpClient ProxyClient() => CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        BaseAddress = new Uri("http://portail.cimef.sn"),
        HandleCookies = false,
    });
}

public class ProxyTransportTests(BehindProxyFactory factory) : IClassFixture<BehindProxyFactory>
{
    private static HttpRequestMessage Request(HttpMethod method, string url, bool https)
    {
        var r = new HttpRequestMessage(method, url);
        if (https) r.Headers.Add("X-Forwarded-Proto", "https");
        return r;
    }

    private static string Cookie(HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues("Set-Cookie", out var all) ? all.Single(c => c.StartsWith(name + "=")) : throw new InvalidOperationException($"no {name} cookie");

    [Fact]
    public async Task Https_through_the_proxy_gives_secure_staff_and_antiforgery_cookies_and_hsts()
    {
        await factory.CreateStaffAsync("proxy@cimef.test", Roles.Secretary);
        var client = factory.ProxyClient();

        var page = await client.SendAsync(Request(HttpMethod.Get, "/Account/SignIn", https: true));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.StartsWith("max-age=", page.Headers.GetValues("Strict-Transport-Security").Single());
        var af = Cookie(page, "cimef_af");
        Assert.Contains("secure", af, StringComparison.OrdinalIgnoreCase);
        var token = WebUtility.HtmlDecode(Regex.Match(await page.Content.ReadAsStringAsync(), "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value);

        var post = Request(HttpMethod.Post, "/Account/SignIn", https: true);
        post.Headers.Add("Cookie", af.Split(';')[0]);
        post.Content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.Email"] = "proxy@cimef.test", ["Input.Password"] = CimefFactory.StaffPassword, ["__RequestVerificationToken"] = token,
        });
        var signIn = await client.SendAsync(post);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Contains("secure", Cookie(signIn, "cimef_staff"), StringComparison.OrdinalIgnoreCase);
        Assert.True(signIn.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task Plain_http_through_the_proxy_gets_neither_secure_cookies_nor_hsts()
    {
        var page = await factory.ProxyClient().SendAsync(Request(HttpMethod.Get, "/Account/SignIn", https: false));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.False(page.Headers.Contains("Strict-Transport-Security"));
        Assert.DoesNotContain("secure", Cookie(page, "cimef_af"), StringComparison.OrdinalIgnoreCase);
    }
}
