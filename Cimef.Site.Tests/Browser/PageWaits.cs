using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// "The browser is on this page and has parsed it", asked of the page itself. Playwright's default WaitForURL waits for
/// the "load" lifecycle event, and twice on a loaded 2-core machine (CI stop 20 on the staff home, then a share page)
/// it saw "networkidle" but never "load" for a page whose every resource had arrived (the failure screenshot was fully
/// styled): the wait hung until its timeout. This waits for the navigation to commit, then polls
/// <c>document.readyState</c> in the page; the steps that follow wait on what the user sees (auto-waiting locators).
/// </summary>
public static class PageWaits
{
    private const string Parsed = "() => document.readyState !== 'loading'";

    public static async Task WaitForPageAsync(this IPage page, string url)
    {
        await page.WaitForURLAsync(url, new() { WaitUntil = WaitUntilState.Commit });
        await page.WaitForFunctionAsync(Parsed);
    }

    public static async Task WaitForPageAsync(this IPage page, Regex url)
    {
        await page.WaitForURLAsync(url, new() { WaitUntil = WaitUntilState.Commit });
        await page.WaitForFunctionAsync(Parsed);
    }

    public static async Task WaitForPageAsync(this IPage page, Func<string, bool> url)
    {
        await page.WaitForURLAsync(url, new() { WaitUntil = WaitUntilState.Commit });
        await page.WaitForFunctionAsync(Parsed);
    }
}
