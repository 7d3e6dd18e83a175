using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Web;

/// <summary>Marks an endpoint (page model or minimal API) that receives report files.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class ReportUploadAttribute : Attribute;

/// <summary>
/// Size limit for report uploads (Reports:MaxUploadMegabytes per request), enforced before the body is
/// read: a declared Content-Length over the limit gets 413 at once; otherwise the server's body limit is
/// set to it, so a chunked body that grows past it is cut off and answered 413 too — with a French message
/// (JSON under /api, else the /Error page re-executed by the status-code pages).
/// </summary>
public sealed class UploadLimit(RequestDelegate next, IOptions<ReportsOptions> options)
{
    /// <summary>Room for the multipart boundaries and the other form fields.</summary>
    public const long FormOverheadBytes = 64 * 1024;

    public static long LimitBytes(ReportsOptions o) => o.MaxUploadMegabytes * 1024L * 1024 + FormOverheadBytes;

    public async Task Invoke(HttpContext http)
    {
        if (!HttpMethods.IsPost(http.Request.Method) || http.GetEndpoint()?.Metadata.GetMetadata<ReportUploadAttribute>() is null)
        {
            await next(http);
            return;
        }
        var limit = LimitBytes(options.Value);
        if (http.Request.ContentLength > limit)
        {
            await TooLargeAsync(http);
            return;
        }
        var feature = http.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false }) feature.MaxRequestBodySize = limit;
        // The form reader has its own cap (128 Mo by default): align it with the configured limit.
        http.Features.Set<IFormFeature>(new FormFeature(http.Request, new FormOptions { MultipartBodyLengthLimit = limit }));
        try
        {
            await next(http);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge && !http.Response.HasStarted)
        {
            await TooLargeAsync(http);
        }
    }

    private async Task TooLargeAsync(HttpContext http)
    {
        http.Response.Clear();
        http.Response.Headers.Connection = "close";
        await FriendlyExceptionHandler.Answer(http, StatusCodes.Status413PayloadTooLarge,
            $"Fichier trop volumineux : la limite est de {options.Value.MaxUploadMegabytes} Mo par envoi.");
    }
}
