using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// "The browser is on this page and has parsed it", asked of the page itself. Playwright's WaitForURL waits for a load
/// state: with <c>Commit</c> it still falls back to the "load" event whenever the URL already matches when the wait
/// starts (a fast page has committed before the test asks), and on a loaded 2-core machine "load" sometimes never
/// fires for a page whose every resource has arrived ("networkidle" does), so the wait hung until its timeout. This
/// polls the page's committed URL (no lifecycle event involved), then <c>document.readyState</c>, from the test; the
/// steps that follow wait on what the user sees (auto-waiting locators).
/// </summary>
public static class PageWaits
{
    private const string Parsed = "() => document.readyState !== 'loading'";
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(90);

    /// <summary>A Playwright URL glob: <c>**</c> any text, <c>*</c> any text without a slash, the rest literal.</summary>
    public static Task WaitForPageAsync(this IPage page, string glob)
    {
        var pattern = new Regex("^" + Regex.Escape(glob).Replace(@"\*\*", ".*", StringComparison.Ordinal).Replace(@"\*", "[^/]*", StringComparison.Ordinal) + "$");
        return page.WaitForPageAsync(url => pattern.IsMatch(url), glob);
    }

    public static Task WaitForPageAsync(this IPage page, Regex url) => page.WaitForPageAsync(url.IsMatch, url.ToString());

    public static Task WaitForPageAsync(this IPage page, Func<string, bool> url) => page.WaitForPageAsync(url, "the expected page");

    private static async Task WaitForPageAsync(this IPage page, Func<string, bool> url, string what)
    {
        var deadline = DateTime.UtcNow + Within;
        while (!url(page.Url))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The browser did not reach {what} within {Within.TotalSeconds} s (it is on {page.Url}).");
            await Task.Delay(50); // the browser navigates on its own clock
        }
        // Asked from here, not with WaitForFunction: its polling runs as a page callback (requestAnimationFrame), which
        // never runs on a page with JavaScript disabled, so a first look during parsing would wait forever.
        while (true)
        {
            try
            {
                if (await page.EvaluateAsync<bool>(Parsed)) return;
            }
            catch (PlaywrightException)
            {
                // the document changed under the question (a redirect): ask the new one
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{page.Url} was not parsed within {Within.TotalSeconds} s.");
            await Task.Delay(50); // the browser parses on its own clock
        }
    }
}
