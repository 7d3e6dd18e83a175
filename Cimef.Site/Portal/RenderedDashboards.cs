using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Cimef.Site.Portal;

/// <summary>
/// The dashboard as last rendered for one session: the page is the same bytes as long as the session,
/// its antiforgery cookie, the language and everything the page shows are the same, and Razor rendering was most of
/// its cost. The key is a hash of all of those (the data comes from the session check's one round trip on every
/// request, so a change is never answered with an old page); only the same session, presenting the same antiforgery
/// cookie, can get an entry back. Bounded: at most <see cref="Capacity"/> pages (≈ 6 KB each), each kept 10 minutes.
/// </summary>
public sealed class RenderedDashboards(TimeProvider time)
{
    public const int Capacity = 128; // ≈ 0.8 MB: sessions viewing their dashboard again within 10 minutes (the peer bench: 64)
    private static readonly TimeSpan Keep = TimeSpan.FromMinutes(10);

    /// <summary>A page's bytes and the headers its rendering set (the antiforgery cookie when the browser had none).</summary>
    public sealed record Page(byte[] Body, string? SetCookie, string? FrameOptions, DateTime StoredAt);

    private readonly ConcurrentDictionary<string, Page> _pages = new(StringComparer.Ordinal);

    public static string Key(IEnumerable<string> parts)
    {
        var text = new StringBuilder();
        foreach (var p in parts) text.Append(p.Length).Append(':').Append(p).Append('|');
        return Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public Page? Find(string key)
    {
        if (!_pages.TryGetValue(key, out var page)) return null;
        if (time.GetUtcNow().UtcDateTime - page.StoredAt < Keep) return page;
        _pages.TryRemove(key, out _);
        return null;
    }

    public void Store(string key, byte[] body, string? setCookie, string? frameOptions)
    {
        // Crude but bounded: a full cache starts over (a page costs one rendering to come back).
        if (_pages.Count >= Capacity) _pages.Clear();
        _pages[key] = new Page(body, setCookie, frameOptions, time.GetUtcNow().UtcDateTime);
    }

    /// <summary>The HttpContext item naming the entry a rendering should fill.</summary>
    public const string KeyItem = "cimef.rendered-dashboard";

    /// <summary>
    /// On the page: when the handler named an entry (<see cref="KeyItem"/>), the result's body is teed into a buffer
    /// and kept, if the rendering set no cookie but the antiforgery one (so a copy never sets anything else).
    /// </summary>
    [AttributeUsage(AttributeTargets.Class)]
    public sealed class KeepAttribute : Attribute, Microsoft.AspNetCore.Mvc.Filters.IAsyncResultFilter
    {
        public async Task OnResultExecutionAsync(Microsoft.AspNetCore.Mvc.Filters.ResultExecutingContext context, Microsoft.AspNetCore.Mvc.Filters.ResultExecutionDelegate next)
        {
            var http = context.HttpContext;
            if (http.Items[KeyItem] is not string key)
            {
                await next();
                return;
            }
            // The page is rendered into memory, then written in one piece (and kept): the response is complete or
            // absent, whatever sits below (compression), and the copy is exactly what was sent.
            var response = http.Response;
            var body = response.Body;
            using var buffer = new MemoryStream();
            response.Body = buffer;
            try { await next(); }
            finally { response.Body = body; }
            var bytes = buffer.ToArray();
            var cookies = response.Headers.SetCookie;
            if (response.StatusCode == StatusCodes.Status200OK
                && (cookies.Count == 0 || (cookies.Count == 1 && cookies[0]!.StartsWith(AntiforgeryCookie + "=", StringComparison.Ordinal))))
                http.RequestServices.GetRequiredService<RenderedDashboards>().Store(key, bytes, cookies.Count == 1 ? cookies[0] : null,
                    response.Headers.XFrameOptions is { Count: 1 } f ? f.ToString() : null);
            await body.WriteAsync(bytes, http.RequestAborted);
        }
    }

    /// <summary>The antiforgery cookie's name (Program: AddAntiforgery).</summary>
    public const string AntiforgeryCookie = "cimef_af";
}
