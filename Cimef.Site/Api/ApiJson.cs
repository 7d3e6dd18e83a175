using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Api;

/// <summary>
/// Body reading and error shapes shared by the staff JSON APIs: a malformed or non-JSON body is a 400
/// {"error": "..."} (never a 500); field errors are {"errors": {"field": ["..."]}}.
/// </summary>
public static class ApiJson
{
    public static async Task<(T? Body, IResult? Error)> ReadAsync<T>(HttpRequest request) where T : class
    {
        if (!request.HasJsonContentType())
            return (null, Error("Le corps de la requête doit être du JSON (Content-Type: application/json)."));
        try
        {
            var options = request.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
            var body = await JsonSerializer.DeserializeAsync<T>(request.Body, options, request.HttpContext.RequestAborted);
            return body is null ? (null, Error("Le corps de la requête est vide.")) : (body, null);
        }
        catch (JsonException)
        {
            return (null, Error("JSON invalide : vérifiez la syntaxe et le type de chaque champ."));
        }
    }

    public static IResult Error(string message, int status = StatusCodes.Status400BadRequest) =>
        Results.Json(new { error = message }, statusCode: status);

    public static IResult Errors(Dictionary<string, string[]> errors) =>
        Results.Json(new { errors }, statusCode: StatusCodes.Status400BadRequest);

    public static IResult NotFound(string message) => Error(message, StatusCodes.Status404NotFound);
}
