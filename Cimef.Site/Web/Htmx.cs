using Htmx;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Web;

/// <summary>The one helper that decides "full page or fragment" for htmx requests.</summary>
public static class HtmxPages
{
    public static bool WantsFragment(this HttpRequest request) =>
        request.IsHtmx() && !request.IsHtmxHistoryRestoreRequest();

    /// <summary>Renders <paramref name="partialName"/> for an htmx request, the whole page otherwise; always varies on HX-Request.</summary>
    public static IActionResult PageOrPartial(this PageModel page, string partialName, object? model = null)
    {
        page.Response.Headers.Append("Vary", "HX-Request");
        return page.Request.WantsFragment() ? page.Partial(partialName, model ?? page) : page.Page();
    }
}
