using Cimef.Site.Web;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Pages;

/// <summary>
/// The French error page (or, for htmx, its message alone): for status codes re-executed by
/// UseStatusCodePagesWithReExecute (404, 403, 405, 413…) and for exceptions re-executed by UseExceptionHandler.
/// </summary>
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
[IgnoreAntiforgeryToken]
public class ErrorModel : PageModel
{
    private const string MessageKey = "Cimef.ErrorMessage";

    /// <summary>Leaves the response at <paramref name="status"/> with no body, for this page to render with <paramref name="message"/>.</summary>
    public static void Prepare(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        http.Items[MessageKey] = message;
    }

    public string Title { get; private set; } = "Erreur";
    public string Message { get; private set; } = "";
    public bool UsePortalLayout { get; private set; }
    public bool Fragment { get; private set; }

    public IActionResult OnGet([FromQuery] int? code) => Show(code);
    // [FromQuery]: a re-executed POST whose form could not be parsed must not be read again (that lost the status code).
    public IActionResult OnPost([FromQuery] int? code) => Show(code);

    private IActionResult Show(int? code)
    {
        var feature = HttpContext.Features.Get<IStatusCodeReExecuteFeature>();
        var failure = HttpContext.Features.Get<IExceptionHandlerPathFeature>();
        if (feature is null && failure is null && code is null) return NotFound();
        code ??= feature?.OriginalStatusCode ?? Response.StatusCode;
        if (code is < 400 or > 599) code = 404; // ?code= is client text: never set an impossible status (it threw, a 500)
        var original = feature?.OriginalPath ?? failure?.Path ?? "";
        UsePortalLayout = original.StartsWith("/patient", StringComparison.OrdinalIgnoreCase);
        Fragment = Request.WantsFragment();
        (Title, Message) = code switch
        {
            404 => ("Page introuvable", "La page demandée n'existe pas ou n'est plus disponible."),
            403 => ("Accès refusé", "Vous n'avez pas les droits nécessaires pour cette action."),
            405 => ("Action non permise", "Cette action n'est pas permise sur cette page."),
            400 => ("Requête invalide", "La requête n'a pas pu être traitée. Rechargez la page et réessayez."),
            413 => ("Fichier trop volumineux", "Le fichier envoyé dépasse la taille autorisée."),
            429 => ("Trop de tentatives", "Trop de demandes en peu de temps. Réessayez dans quelques minutes."),
            503 => ("Service momentanément indisponible", "Réessayez dans quelques instants."),
            _ => ("Erreur", "Une erreur est survenue."),
        };
        if (HttpContext.Items[MessageKey] is string message) Message = message;
        Response.StatusCode = code ?? 404;
        return Page();
    }
}
