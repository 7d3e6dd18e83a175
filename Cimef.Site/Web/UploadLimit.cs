using System.Net;
using Cimef.Site.Api;
using Htmx;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Web;

/// <summary>Marks an endpoint (page model or minimal API) that receives report files.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class ReportUploadAttribute : Attribute;

/// <summary>
/// Size limit for report uploads (Reports:MaxUploadMegabytes per request), enforced before the body is
/// read: a declared Content-Length over the limit gets 413 at once; otherwise the server's body limit is
/// set to it, so a chunked body that grows past it is cut off and answered 413 too — with a French message.
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

    private Task TooLargeAsync(HttpContext http)
    {
        var message = $"Fichier trop volumineux : la limite est de {options.Value.MaxUploadMegabytes} Mo par envoi.";
        http.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.Connection = "close";
        if (http.Request.IsApi()) return ApiJson.Error(message, StatusCodes.Status413PayloadTooLarge).ExecuteAsync(http);
        http.Response.ContentType = "text/html; charset=utf-8";
        var fragment = $"<p class=\"status status-error\" role=\"alert\">{WebUtility.HtmlEncode(message)}</p>";
        return http.Response.WriteAsync(http.Request.IsHtmx() ? fragment
            : "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Fichier trop volumineux — CIMEF</title><link rel=\"stylesheet\" href=\"/css/site.css\"></head>" +
              $"<body><main class=\"narrow\"><h1>Fichier trop volumineux</h1>{fragment}<p><a href=\"/Reports\">Retour</a></p></main></body></html>");
    }
}
