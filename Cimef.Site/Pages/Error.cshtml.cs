using System.Globalization;
using Cimef.Site.Fhir;
using Cimef.Site.Languages;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Cimef.Site.Portal;

namespace Cimef.Site.Pages;

/// <summary>
/// The error page (French; on a patient path, in the patient's language) (or, for htmx, its message alone): for status codes re-executed by
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

    public string Title { get; private set; } = "";
    public string Home { get; private set; } = "";
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
        // The endpoint that failed says whether it is the patient side; a path no endpoint matched, its prefix.
        var endpoint = feature?.Endpoint ?? failure?.Endpoint;
        UsePortalLayout = endpoint is not null ? PatientSide.Of(endpoint) is not null : PatientRoutes.Contains(original);
        Fragment = Request.WantsFragment();
        // One set of words for both sides: a patient path reads the patient catalogue in the request's language, a
        // staff path the same catalogue in French (the staff side is French only).
        var culture = UsePortalLayout ? CultureInfo.CurrentUICulture : CultureInfo.InvariantCulture;
        var entry = code is 404 or 403 or 405 or 400 or 413 or 429 or 503 ? $"error_{code}" : "error";
        Title = PatientText.Get(entry + "_title", culture);
        Message = PatientText.Get(entry + "_message", culture);
        Home = PatientText.Get("error_home", culture);
        if (HttpContext.Items[MessageKey] is string message) Message = message;
        Response.StatusCode = code ?? 404;
        // A FHIR client reads every answer as FHIR JSON, errors included (a rate-limit 429, a 405 from routing…).
        if (Request.IsFhir()) return Content(FhirJson.Serialize(FhirJson.OutcomeOf(Message, FhirJson.IssueOf(Response.StatusCode))), FhirJson.ContentType);
        return Page();
    }
}
