using Cimef.Site.Web;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Cimef.Site.Reports;

namespace Cimef.Site.Pages.Share;

/// <summary>
/// A doctor's shared-report link <c>/s/{token}</c>, on any device, without an account: the 6-digit code,
/// then (a cookie bound to this share) the report's title, date and its view/download links. Unknown, expired,
/// revoked, locked and ended links all get the same 404 page, with no hint which.
/// </summary>
[EnableRateLimiting(RateLimits.ShareCode)]
public class OpenModel(ReportShares shares) : PageModel
{
    public const string Invalid = "Ce lien de partage n'est plus valide. Demandez un nouveau lien au patient ou au cabinet.";

    public Data.Entities.ReportShare? Share { get; private set; }
    public bool Unlocked { get; private set; }
    public string? Error { get; private set; }
    public string Token { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(string? token)
    {
        Response.Headers.CacheControl = "no-store";
        Share = await shares.FindValidAsync(token, HttpContext.RequestAborted);
        if (Share is null) return Gone();
        Token = token!;
        Unlocked = shares.HasSession(Request, Share);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string? token, string? code)
    {
        Response.Headers.CacheControl = "no-store";
        Share = await shares.FindValidAsync(token, HttpContext.RequestAborted);
        if (Share is null) return Gone();
        Token = token!;
        code = code?.Trim();
        switch (await shares.CheckCodeAsync(HttpContext, Share, code is { Length: <= 20 } ? code : null, HttpContext.RequestAborted))
        {
            case ReportShares.CodeOutcome.Ok:
                return Redirect("/s/" + Token);
            case ReportShares.CodeOutcome.Locked:
                return Gone();
            default:
                Response.StatusCode = StatusCodes.Status400BadRequest;
                Error = ReportShares.IsWellFormedCode(code) ? "Code incorrect." : "Le code se compose de 6 chiffres.";
                return Page();
        }
    }

    private PageResult Gone()
    {
        Share = null;
        Response.StatusCode = StatusCodes.Status404NotFound;
        return Page();
    }
}
