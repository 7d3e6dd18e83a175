namespace Cimef.Site.Web;

/// <summary>
/// The options of every <c>__Host-</c> cookie the site sets for itself (patient session, device, phone, recovery
/// progress): HttpOnly, Secure, SameSite=Strict, path /, essential — the prefix requires Secure and path / without a
/// domain, and none of them is ever read by a script or sent by another site.
/// </summary>
public static class HostCookies
{
    public static CookieOptions Options(TimeSpan? maxAge = null) => new()
    {
        HttpOnly = true,
        Secure = true,
        SameSite = SameSiteMode.Strict,
        Path = "/",
        IsEssential = true,
        MaxAge = maxAge,
    };
}
