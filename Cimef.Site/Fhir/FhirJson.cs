using System.Text.Json;
using Cimef.Site.Storage;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.AspNetCore.Diagnostics;

namespace Cimef.Site.Fhir;

/// <summary>FHIR JSON in and out through Firely's System.Text.Json converters (no hand-written FHIR JSON), and OperationOutcome errors.</summary>
public static class FhirJson
{
    public const string ContentType = "application/fhir+json; charset=utf-8";

    private static readonly JsonSerializerOptions Options = new JsonSerializerOptions().ForFhir(ModelInfo.ModelInspector);

    /// <summary>
    /// Everything under /fhir answers FHIR (an OperationOutcome for every error), never a page or a login redirect.
    /// While an exception or a status code is re-executed the request's path is already the error page's: the path
    /// that failed decides.
    /// </summary>
    public static bool IsFhir(this HttpRequest request)
    {
        var features = request.HttpContext.Features;
        var path = features.Get<IExceptionHandlerPathFeature>()?.Path ?? features.Get<IStatusCodeReExecuteFeature>()?.OriginalPath ?? request.Path;
        return new PathString(path).StartsWithSegments("/fhir", StringComparison.OrdinalIgnoreCase);
    }

    public static string Serialize(Resource resource) => JsonSerializer.Serialize(resource, resource.GetType(), Options);

    public static IResult Resource(Resource resource, int status = StatusCodes.Status200OK) =>
        Results.Text(Serialize(resource), ContentType, statusCode: status);

    public static Resource? Parse(byte[] body) => JsonSerializer.Deserialize<Resource>(body, Options);

    public static IResult Outcome(int status, string diagnostics, OperationOutcome.IssueType code) => Resource(OutcomeOf(diagnostics, code), status);

    /// <summary>An error answer whose issue code follows from its HTTP status.</summary>
    public static IResult Outcome(int status, string diagnostics) => Outcome(status, diagnostics, IssueOf(status));

    public static OperationOutcome OutcomeOf(string diagnostics, OperationOutcome.IssueType code) => new()
    {
        Issue = [new OperationOutcome.IssueComponent { Severity = OperationOutcome.IssueSeverity.Error, Code = code, Diagnostics = diagnostics }],
    };

    public static OperationOutcome.IssueType IssueOf(int status) => status switch
    {
        StatusCodes.Status400BadRequest => OperationOutcome.IssueType.Invalid,
        StatusCodes.Status401Unauthorized => OperationOutcome.IssueType.Login,
        StatusCodes.Status403Forbidden => OperationOutcome.IssueType.Forbidden,
        StatusCodes.Status404NotFound => OperationOutcome.IssueType.NotFound,
        StatusCodes.Status405MethodNotAllowed or StatusCodes.Status415UnsupportedMediaType => OperationOutcome.IssueType.NotSupported,
        StatusCodes.Status410Gone => OperationOutcome.IssueType.Deleted,
        StatusCodes.Status413PayloadTooLarge => OperationOutcome.IssueType.TooCostly,
        StatusCodes.Status429TooManyRequests => OperationOutcome.IssueType.Throttled,
        StatusCodes.Status503ServiceUnavailable => OperationOutcome.IssueType.Transient,
        _ => OperationOutcome.IssueType.Exception,
    };

    public static IResult BadRequest(string diagnostics) => Outcome(StatusCodes.Status400BadRequest, diagnostics, OperationOutcome.IssueType.Invalid);

    public static IResult NotFound(string diagnostics) => Outcome(StatusCodes.Status404NotFound, diagnostics, OperationOutcome.IssueType.NotFound);

    /// <summary>A report's file as a Binary resource (contentType + base64 data), for a client that asks for FHIR JSON.</summary>
    public static async Task<IResult> BinaryAsync(ReportStore.OpenedFile file, string contentType, CancellationToken ct)
    {
        await using var content = file.Content;
        using var bytes = new MemoryStream(file.Length is > 0 and < int.MaxValue ? (int)file.Length : 0);
        await content.CopyToAsync(bytes, ct);
        return Resource(new Binary { ContentType = contentType, Data = bytes.ToArray() });
    }
}
