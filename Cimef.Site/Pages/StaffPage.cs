using Cimef.Site.Web;
using Htmx;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Pages;

/// <summary>
/// A staff page whose POSTs all end one way. htmx with a fragment: the fragment plus an HX-Trigger
/// <see cref="ToastEvent"/> carrying the message (staff.js shows it). Otherwise post/redirect/get as in the
/// Identity UI pages: the message goes to <see cref="StatusMessage"/> (TempData) and the browser is
/// redirected (htmx without a fragment gets HX-Redirect, a full navigation).
/// </summary>
public abstract class StaffPage : PageModel
{
    public const string ToastEvent = "toast";

    /// <summary>
    /// The one-time message the layout shows, kept in TempData under its own name. Read through TempData rather than
    /// bound with [TempData]: a message rendered in this response is then consumed, not carried to the next one.
    /// </summary>
    public string? StatusMessage
    {
        get => TempData[nameof(StatusMessage)] as string;
        set => TempData[nameof(StatusMessage)] = value;
    }

    /// <summary>Ends the POST on <paramref name="pageName"/> (default: this page) with <paramref name="message"/>.</summary>
    protected IActionResult Done(string message, string? pageName = null, object? routeValues = null)
    {
        Response.Headers.Append("Vary", "HX-Request");
        StatusMessage = message;
        if (!Request.IsHtmx()) return RedirectToPage(pageName, routeValues);
        Response.Htmx(h => h.Redirect(Url.Page(pageName, routeValues)!));
        return new OkResult();
    }

    /// <summary>htmx: <paramref name="fragment"/> and the toast; a plain form: <see cref="Done(string, string?, object?)"/> on this page.</summary>
    protected async Task<IActionResult> DoneAsync(string message, Func<Task<IActionResult>> fragment, object? routeValues = null)
    {
        if (!Request.WantsFragment()) return Done(message, null, routeValues);
        Response.Headers.Append("Vary", "HX-Request");
        Response.Htmx(h => h.WithTrigger(ToastEvent, message));
        return await fragment();
    }

    /// <summary>Renders this page now with the message (the response carries a one-time secret, so no redirect).</summary>
    protected PageResult PageWithStatus(string message)
    {
        StatusMessage = message;
        return Page();
    }
}
