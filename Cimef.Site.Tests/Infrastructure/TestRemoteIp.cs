using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Infrastructure;

/// <summary>
/// TestServer has no real peer address: a request carrying <see cref="Header"/> gets that remote address, set
/// before the site's own middleware (as Kestrel would). Add with <see cref="AddTo"/> in ConfigureTestServices.
/// </summary>
public sealed class TestRemoteIp : IStartupFilter
{
    public const string Header = "X-Test-Remote-Ip";

    public static void AddTo(IServiceCollection services) => services.AddTransient<IStartupFilter, TestRemoteIp>();

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            if (context.Request.Headers.TryGetValue(Header, out var value) && IPAddress.TryParse(value.ToString(), out var ip))
                context.Connection.RemoteIpAddress = ip;
            return nextMiddleware(context);
        });
        next(app);
    };

    /// <summary>A client whose every request comes from <paramref name="ip"/>.</summary>
    public static HttpClient ClientFrom(CimefFactory factory, string ip)
    {
        var client = factory.NewClient();
        client.DefaultRequestHeaders.Add(Header, ip);
        return client;
    }
}
