using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace Cimef.Site.Fhir;

/// <summary>FHIR JSON in and out through Firely's System.Text.Json converters (no hand-written FHIR JSON), and OperationOutcome errors.</summary>
public static class FhirJson
{
    public const string ContentType = "application/fhir+json; charset=utf-8";

    private static readonly JsonSerializerOptions Options = new JsonSerializerOptions().ForFhir(ModelInfo.ModelInspector);

    public static IResult Resource(Resource resource, int status = StatusCodes.Status200OK) =>
        Results.Text(JsonSerializer.Serialize(resource, resource.GetType(), Options), ContentType, statusCode: status);

    public static Resource? Parse(byte[] body) => JsonSerializer.Deserialize<Resource>(body, Options);

    public static IResult Outcome(int status, string diagnostics, OperationOutcome.IssueType code) =>
        Resource(new OperationOutcome
        {
            Issue = [new OperationOutcome.IssueComponent { Severity = OperationOutcome.IssueSeverity.Error, Code = code, Diagnostics = diagnostics }],
        }, status);

    public static IResult BadRequest(string diagnostics) => Outcome(StatusCodes.Status400BadRequest, diagnostics, OperationOutcome.IssueType.Invalid);

    public static IResult NotFound(string diagnostics) => Outcome(StatusCodes.Status404NotFound, diagnostics, OperationOutcome.IssueType.NotFound);
}
