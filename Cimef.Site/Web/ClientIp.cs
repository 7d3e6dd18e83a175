using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Web;

public static class ClientIp
{
    /// <summary>Remote address after UseForwardedHeaders (which trusts only configured proxies).</summary>
    public static string Of(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>
    /// The address as counted by the login throttle and the flood limiter: IPv4 as is, IPv6 reduced to its
    /// network (<c>Network:Ipv6PrefixLength</c>, /64 by default) — one subscriber holds a whole /64, so counting
    /// single IPv6 addresses would give an attacker 2^64 fresh ones.
    /// </summary>
    public static string Bucket(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        if (address is null) return "unknown";
        var prefix = context.RequestServices.GetRequiredService<IOptions<NetworkOptions>>().Value.Ipv6PrefixLength;
        return Bucket(address, prefix);
    }

    public static string Bucket(IPAddress address, int ipv6PrefixLength)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        var bytes = address.GetAddressBytes();
        for (var bit = ipv6PrefixLength; bit < 128; bit++) bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        return $"{new IPAddress(bytes)}/{ipv6PrefixLength}";
    }
}

/// <summary>
/// Without <c>Network:KnownProxies</c> forwarded headers are ignored, so behind a reverse proxy every patient
/// shares the proxy's address (one throttle and flood bucket for the whole population). The first request that
/// carries X-Forwarded-For in that configuration logs a warning, once per process.
/// </summary>
public sealed class ForwardedHeadersWarning(RequestDelegate next, IOptions<NetworkOptions> network, ILogger<ForwardedHeadersWarning> log)
{
    private int _warned;

    public Task InvokeAsync(HttpContext context)
    {
        if (_warned == 0 && network.Value.KnownProxies.Length == 0 && context.Request.Headers.ContainsKey("X-Forwarded-For")
            && Interlocked.Exchange(ref _warned, 1) == 0)
            log.LogWarning("Requests carry X-Forwarded-For but Network:KnownProxies is empty: forwarded headers are ignored. "
                + "If a reverse proxy is in front, every patient shares its address; list it in Network:KnownProxies.");
        return next(context);
    }
}
