using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Cimef.Site.Web;

/// <summary>
/// No stack trace ever reaches a client. Malformed input (BadHttpRequestException) is a 400 with a French
/// message (<see cref="BadInput"/>); a database busy beyond its timeout (SQLite busy/locked, PostgreSQL
/// serialization failure, deadlock, lock or statement timeout) is a clean 503
/// ("réessayez dans un instant"); anything else a 500 with a French page (or JSON under /api).
/// </summary>
public sealed class FriendlyExceptionHandler(ILogger<FriendlyExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (exception is BadHttpRequestException bad)
        {
            await BadInput.WriteAsync(http, bad, log, ct);
            return true;
        }
        var busy = IsDatabaseBusy(exception);
        var status = busy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError;
        if (busy) log.LogWarning("Database busy beyond the timeout on {Path}.", http.Request.Path);
        else log.LogError(exception, "Unhandled error on {Path}.", http.Request.Path);

        var message = busy
            ? "Le service est momentanément surchargé. Réessayez dans quelques instants."
            : "Une erreur inattendue est survenue. Réessayez ou contactez le cabinet.";
        http.Response.Clear();
        http.Response.StatusCode = status;
        http.Response.Headers.CacheControl = "no-store";
        if (busy) http.Response.Headers.RetryAfter = "5";
        if (http.Request.Path.StartsWithSegments("/api"))
        {
            await http.Response.WriteAsJsonAsync(new { error = message }, ct);
            return true;
        }
        http.Response.ContentType = "text/html; charset=utf-8";
        var title = busy ? "Service momentanément indisponible" : "Erreur";
        await http.Response.WriteAsync(
            $"<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{title} — CIMEF</title><link rel=\"stylesheet\" href=\"/css/site.css\"></head>" +
            $"<body><main class=\"narrow\"><h1>{title}</h1><p role=\"alert\">{message}</p><p><a href=\"/\">Retour</a></p></main></body></html>", ct);
        return true;
    }

    public static bool IsDatabaseBusy(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is SqliteException { SqliteErrorCode: 5 or 6 } || Data.Postgres.IsBusy(e)) return true; // SQLITE_BUSY, SQLITE_LOCKED; PostgreSQL serialization, deadlock, lock or statement timeout
        return false;
    }
}
