using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Cimef.Site.Tests.Infrastructure;

/// <summary>The same fixture served by the real Kestrel on a loopback port (browser tests, benchmarks).</summary>
public class KestrelFactory : CimefFactory
{
    private string? _address;

    /// <summary>e.g. http://127.0.0.1:41234 — starts the server on first use.</summary>
    public string Address
    {
        get
        {
            if (_address is not null) return _address;
            UseKestrel(0);
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            _address = addresses.First().Replace("[::1]", "127.0.0.1").Replace("localhost", "127.0.0.1").TrimEnd('/');
            return _address;
        }
    }
}
