using Cimef.Site.Web;
using Microsoft.AspNetCore.Antiforgery;

namespace Cimef.Site.Api;

/// <summary>
/// CSRF guard for every /api endpoint. A cross-site page can make a browser POST a form or an empty body with the
/// victim's cookies, but it cannot send Content-Type: application/json nor read an antiforgery token. So a state
/// change authenticated by a cookie (staff or patient) must carry a JSON content type or a valid antiforgery token,
/// even when it has no body (POST /api/invoices/{id}/send/). A Bearer token is no ambient credential: exempt.
/// </summary>
public sealed class ApiCsrfFilter(IAntiforgery antiforgery) : IEndpointFilter
{
    public const string FormWithoutToken =
        "Jeton anti-falsification manquant ou invalide : envoyez du JSON (Content-Type: application/json), le formulaire du site, ou utilisez un jeton d'API (Bearer).";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var method = http.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method))
            return await next(context);
        var identities = http.User.Identities.Where(i => i.IsAuthenticated).ToList();
        var byCookie = identities.Any(i => i.AuthenticationType != AuthSchemes.ApiToken);
        var byBearer = identities.Any(i => i.AuthenticationType == AuthSchemes.ApiToken);
        if (!byCookie || byBearer || http.Request.HasJsonContentType() || await antiforgery.IsRequestValidAsync(http))
            return await next(context);
        // A multipart upload (the only form an /api endpoint takes) lacks its token: 400; anything else is the wrong media type: 415.
        return http.Request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true
            ? ApiJson.Error(FormWithoutToken)
            : ApiJson.NotJson();
    }
}
