using Cimef.Site.Api;
using Cimef.Site.Fhir;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Cimef.Site.Web;

/// <summary>
/// No stack trace ever reaches a client. Malformed input (BadHttpRequestException) is a 400 with a French
/// message (<see cref="BadInput"/>); a database busy beyond its timeout (SQLite busy/locked, PostgreSQL
/// serialization failure, deadlock, lock or statement timeout) is a clean 503
/// ("réessayez dans un instant"); anything else a 500. JSON under /api, an OperationOutcome under /fhir; elsewhere the handler declines and
/// UseExceptionHandler re-executes the French /Error page with that status and message.
/// </summary>
public sealed class FriendlyExceptionHandler(ILogger<FriendlyExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        // The request's path is already the error page's: log the one that failed.
        var path = http.Features.Get<IExceptionHandlerPathFeature>()?.Path;
        if (exception is BadHttpRequestException bad) return await BadInput.WriteAsync(http, bad, path, log);
        var busy = IsDatabaseBusy(exception);
        var status = busy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError;
        if (busy) log.LogWarning("Database busy beyond the timeout on {Path}.", path);
        else log.LogError(exception, "Unhandled error on {Path}.", path);

        var message = busy
            ? "Le service est momentanément surchargé. Réessayez dans quelques instants."
            : "Une erreur inattendue est survenue. Réessayez ou contactez le cabinet.";
        if (busy) http.Response.Headers.RetryAfter = "5";
        return await Answer(http, status, message);
    }

    /// <summary>JSON under /api, an OperationOutcome under /fhir (handled); elsewhere false, and the /Error page renders <paramref name="message"/>.</summary>
    public static async ValueTask<bool> Answer(HttpContext http, int status, string message)
    {
        http.Response.Headers.CacheControl = "no-store";
        if (http.Request.IsFhir())
        {
            await Fhir.FhirJson.Outcome(status, message).ExecuteAsync(http);
            return true;
        }
        if (!http.Request.IsApi())
        {
            Pages.ErrorModel.Prepare(http, status, message);
            return false;
        }
        await ApiJson.Error(message, status).ExecuteAsync(http);
        return true;
    }

    public static bool IsDatabaseBusy(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is SqliteException { SqliteErrorCode: 5 or 6 } || Data.Postgres.IsBusy(e)) return true; // SQLITE_BUSY, SQLITE_LOCKED; PostgreSQL serialization, deadlock, lock or statement timeout
        return false;
    }
}
