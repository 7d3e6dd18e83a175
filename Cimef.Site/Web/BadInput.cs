using System.Text.RegularExpressions;
using Cimef.Site.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Cimef.Site.Web;

/// <summary>
/// Malformed input is the client's mistake, not the server's: a minimal-API binding failure
/// (BadHttpRequestException, thrown because RouteHandlerOptions.ThrowOnBadRequest is on) becomes a 400 with a
/// French message naming the parameter, logged as one warning line without a stack trace (a scanner sends
/// hundreds of them).
/// </summary>
public static partial class BadInput
{
    // ASP.NET Core's messages: Failed to bind parameter "int? page" from "abc". / Required parameter "int id" was not provided…
    [GeneratedRegex("""parameter "(?:[^"]*\s)?(?<name>[A-Za-z_][A-Za-z0-9_]*)"(?: from "(?<value>.*)")?""", RegexOptions.Singleline)]
    private static partial Regex ParameterPattern();

    /// <summary>The field the failure is about (snake_case, as the JSON API names fields), or null, and the French message.</summary>
    public static (string? Field, string Message) Describe(BadHttpRequestException e)
    {
        if (e.StatusCode == StatusCodes.Status415UnsupportedMediaType)
            return (null, ApiJson.JsonRequired);
        if (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            return (null, "Le corps de la requête est trop volumineux.");
        var text = e.Message;
        if (text.Contains("as JSON", StringComparison.Ordinal) || e.InnerException is System.Text.Json.JsonException)
            return (null, ApiJson.InvalidJson);
        var m = ParameterPattern().Match(text);
        if (!m.Success) return (null, "La requête n'a pas pu être lue. Vérifiez les valeurs envoyées.");
        var field = System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(m.Groups["name"].Value);
        if (text.StartsWith("Required", StringComparison.Ordinal) || text.Contains("no body was provided", StringComparison.Ordinal))
            return (field, $"Une valeur est requise pour {field}.");
        var value = m.Groups["value"].Value;
        if (value.Length > 40) value = value[..40] + "…";
        return (field, $"La valeur « {value} » n'est pas valide pour {field}.");
    }

    public static async ValueTask<bool> WriteAsync(HttpContext http, BadHttpRequestException e, string? path, ILogger log)
    {
        var (field, message) = Describe(e);
        // One line, no exception object (no stack trace), no submitted value (it is attacker-controlled text).
        log.LogWarning("Bad request ({Status}) on {Method} {Path}: {Field}", e.StatusCode, http.Request.Method, path, field ?? "body");
        if (field is null || !http.Request.IsApi()) return await FriendlyExceptionHandler.Answer(http, e.StatusCode, message);
        http.Response.Headers.CacheControl = "no-store";
        await ApiJson.Errors(new() { [field] = [message] }, e.StatusCode).ExecuteAsync(http);
        return true;
    }
}

/// <summary>
/// A request for a page handler that does not exist (POST to a GET-only page, ?handler=nimportequoi) would
/// render the page without running any handler, on a model that was never loaded (a NullReferenceException,
/// a 500). It is a 404 (unknown handler name) or a 405 (a POST/PUT the page has no handler for) instead.
/// </summary>
public sealed class UnknownPageHandlerFilter : IPageFilter
{
    public void OnPageHandlerSelected(PageHandlerSelectedContext context) { }

    public void OnPageHandlerExecuting(PageHandlerExecutingContext context)
    {
        if (context.HandlerMethod is not null || context.ActionDescriptor.HandlerMethods.Count == 0) return;
        // The status-code page is re-executed with the original method (a PUT's 401 too): it must keep rendering.
        if (context.HttpContext.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodeReExecuteFeature>() is not null) return;
        var request = context.HttpContext.Request;
        var named = context.RouteData.Values.ContainsKey("handler") || request.Query.ContainsKey("handler");
        // A plain GET of a page without OnGet (a POST-only form page) still renders, as before.
        if (named) context.Result = new NotFoundResult();
        else if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
            context.Result = new StatusCodeResult(StatusCodes.Status405MethodNotAllowed);
    }

    public void OnPageHandlerExecuted(PageHandlerExecutedContext context) { }
}
