using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace Cimef.Site.Web;

/// <summary>
/// Static files from the top-level wwwroot: fingerprinted URLs come from <c>asp-append-version</c>
/// (?v=hash); such URLs are cached for a year as immutable, others revalidate.
/// </summary>
public static class StaticAssets
{
    /// <summary>The top-level wwwroot: beside the binary when published, else found walking up from it (repo layout).</summary>
    public static string FindWebRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            var candidate = Path.Combine(dir.FullName, "wwwroot");
            if (File.Exists(Path.Combine(candidate, "css", "site.css"))) return candidate;
            dir = dir.Parent;
        }
        return Path.Combine(AppContext.BaseDirectory, "wwwroot");
    }

    public static StaticFileOptions Options() => new()
    {
        ContentTypeProvider = new FileExtensionContentTypeProvider(),
        OnPrepareResponse = ctx =>
        {
            var headers = ctx.Context.Response.Headers;
            headers[HeaderNames.CacheControl] = ctx.Context.Request.Query.ContainsKey("v")
                ? "public, max-age=31536000, immutable"
                : "public, max-age=3600, must-revalidate";
        },
    };
}
