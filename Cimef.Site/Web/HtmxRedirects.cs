using Htmx;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Web;

/// <summary>After a successful POST: htmx gets HX-Redirect (full navigation), a plain form gets 302 (post/redirect/get).</summary>
public static class HtmxRedirects
{
    public static IActionResult RedirectOrHx(this PageModel page, string url)
    {
        if (page.Request.IsHtmx())
        {
            page.Response.Headers["HX-Redirect"] = url;
            return new OkResult();
        }
        return new RedirectResult(url);
    }
}
