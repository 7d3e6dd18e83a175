namespace Cimef.Site.Web;

public static class ClientIp
{
    /// <summary>Remote address after UseForwardedHeaders (which trusts only configured proxies).</summary>
    public static string Of(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
