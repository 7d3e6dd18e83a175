using Cimef.Site.Api;
using Htmx;

namespace Cimef.Site.Web;

/// <summary>Cookie redirects that fit each caller: htmx gets HX-Redirect, APIs get a bare 401/403.</summary>
public static class AuthRedirects
{
    public static Task Redirect(HttpContext http, string location, int apiStatus)
    {
        if (http.Request.IsApi())
        {
            http.Response.StatusCode = apiStatus;
            return Task.CompletedTask;
        }
        if (http.Request.IsHtmx())
        {
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.Headers["HX-Redirect"] = location;
            return Task.CompletedTask;
        }
        http.Response.Redirect(location);
        return Task.CompletedTask;
    }
}
