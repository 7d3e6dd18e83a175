using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Cimef.Site.Portal;

namespace Cimef.Site.Api;

/// <summary>
/// Body reading and error shapes shared by the JSON APIs and the middleware that answers them: a malformed or
/// body is a 400 {"error": "..."} (never a 500), a body that is not JSON a 415 (<see cref="NotJson"/>); field errors are {"errors": {"field": ["..."]}}.
/// </summary>
public static class ApiJson
{
    /// <summary>
    /// The one answer to a request that must be JSON and is not (a form, text, no content type): the patient API's
    /// POSTs, every staff API body, and a cookie-authenticated state change without a JSON content type (CSRF).
    /// </summary>
    public const string JsonRequired = "Le corps de la requête doit être du JSON (Content-Type: application/json, même sans corps).";

    public static IResult NotJson() => Error(JsonRequired, StatusCodes.Status415UnsupportedMediaType);
    public const string InvalidJson = "JSON invalide : vérifiez la syntaxe et le type de chaque champ.";

    /// <summary>
    /// Everything under /api answers JSON, never a page or a login redirect. While an exception is handled the request's
    /// path is already the error page's: the path that failed decides.
    /// </summary>
    public static bool IsApi(this HttpRequest request) =>
        new PathString(request.HttpContext.Features.Get<IExceptionHandlerPathFeature>()?.Path ?? request.Path).StartsWithSegments("/api");

    public static async Task<(T? Body, IResult? Error)> ReadAsync<T>(HttpRequest request) where T : class
    {
        if (!request.HasJsonContentType())
            return (null, NotJson());
        try
        {
            var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
            var body = await JsonSerializer.DeserializeAsync<T>(request.Body, options, request.HttpContext.RequestAborted);
            return body is null ? (null, Error("Le corps de la requête est vide.")) : (body, null);
        }
        catch (JsonException)
        {
            return (null, Error(InvalidJson));
        }
    }

    public static IResult Error(string message, int status = StatusCodes.Status400BadRequest) =>
        Results.Json(new { error = message }, statusCode: status);

    public static IResult Errors(Dictionary<string, string[]> errors, int status = StatusCodes.Status400BadRequest) =>
        Results.Json(new { errors }, statusCode: status);

    /// <summary>A refused patient login or request flood: 429 {"error", "retry_after"} (the Retry-After header is the caller's).</summary>
    public static IResult Throttled(int seconds) =>
        Results.Json(new { error = PatientMessages.Throttled(seconds), retry_after = seconds }, statusCode: StatusCodes.Status429TooManyRequests);

    public static IResult NotFound(string message) => Error(message, StatusCodes.Status404NotFound);
}
