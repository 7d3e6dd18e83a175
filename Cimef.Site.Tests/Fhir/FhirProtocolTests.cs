using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cimef.Site.Cli;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;
using Hl7.Fhir.Serialization;
using Microsoft.EntityFrameworkCore;
using Task = System.Threading.Tasks.Task;

namespace Cimef.Site.Tests.Fhir;

/// <summary>
/// FHIR speaks FHIR to the end: every answer under /fhir, errors included, is FHIR JSON (an OperationOutcome for an
/// error, never the French HTML page), no date makes a 500, Binary honours Accept, and absolute URLs come from
/// Portal:Url, whatever Host the client sends.
/// </summary>
public class FhirProtocolTests : IClassFixture<CimefFactory>
{
    private const string Origin = "https://portail.cimef.sn";
    private readonly CimefFactory _factory;

    public FhirProtocolTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:Url"] = Origin + "/patient";
    }

    private static readonly JsonSerializerOptions Strict = new JsonSerializerOptions().ForFhir(ModelInfo.ModelInspector);

    /// <summary>The body as a FHIR resource of type <typeparamref name="T"/>, checking the FHIR JSON media type.</summary>
    public static async Task<T> ResourceAsync<T>(HttpResponseMessage response) where T : Resource
    {
        Assert.Equal("application/fhir+json", response.Content.Headers.ContentType?.MediaType);
        var resource = JsonSerializer.Deserialize<Resource>(await response.Content.ReadAsStringAsync(), Strict);
        return Assert.IsType<T>(resource);
    }

    public static async Task<OperationOutcome> OutcomeAsync(HttpResponseMessage response)
    {
        var outcome = await ResourceAsync<OperationOutcome>(response);
        Assert.Equal(OperationOutcome.IssueSeverity.Error, outcome.Issue.Single().Severity);
        Assert.False(string.IsNullOrWhiteSpace(outcome.Issue.Single().Diagnostics));
        return outcome;
    }

    [Theory]
    [InlineData("date=9999-12-31")]
    [InlineData("date=0001-01-01")]
    [InlineData("date=gt9999-12-31")]
    [InlineData("date=le9999-12-31T23:59:59.9999999Z")]
    [InlineData("date=lt0001-01-01")]
    [InlineData("date=ge2026-11-01T10:00:00.1234567Z")]
    [InlineData("date=ge2026-11-01T10:00:00,5Z")]
    public async Task An_out_of_range_or_too_precise_date_is_a_400_operation_outcome(string criteria)
    {
        var http = await _factory.Data.ApiClientAsync(Roles.Integration);
        var response = await http.GetAsync("/fhir/DiagnosticReport?" + criteria);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("date invalide", (await OutcomeAsync(response)).Issue.Single().Diagnostics);
    }

    [Theory]
    [InlineData("date=ge2026-11-01T10:00:00.123456Z")]
    [InlineData("date=lt2999-12-31")]
    [InlineData("date=gt1900-01-01T00:00:00%2B01:00")]
    public async Task Dates_within_range_and_microsecond_precision_are_accepted(string criteria)
    {
        var http = await _factory.Data.ApiClientAsync(Roles.Integration);
        var response = await http.GetAsync("/fhir/DocumentReference?" + criteria);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Bundle.BundleType.Searchset, (await ResourceAsync<Bundle>(response)).Type);
    }

    [Theory]
    [InlineData("GET", "/fhir/Observation", 404)]
    [InlineData("GET", "/fhir/Observation/1", 404)]
    [InlineData("POST", "/fhir/Observation", 404)]
    [InlineData("DELETE", "/fhir/Patient/1", 405)]
    [InlineData("PUT", "/fhir/DiagnosticReport/1", 405)]
    [InlineData("PATCH", "/fhir/DocumentReference/1", 405)]
    [InlineData("POST", "/fhir/Patient", 405)]
    [InlineData("DELETE", "/fhir/Binary/1", 405)]
    [InlineData("GET", "/fhir/Patient/1/_history", 404)]
    [InlineData("GET", "/fhir/Patient/_history", 404)]
    [InlineData("GET", "/fhir/Patient/1/_history/2", 404)]
    [InlineData("GET", "/fhir/Binary", 405)]
    public async Task Unknown_types_and_unsupported_interactions_answer_an_operation_outcome(string method, string path, int status)
    {
        var http = await _factory.Data.ApiClientAsync(Roles.Integration);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "PUT" or "POST" or "PATCH")
            request.Content = new StringContent("""{"resourceType":"Patient"}""", Encoding.UTF8, "application/fhir+json");
        var response = await http.SendAsync(request);
        Assert.Equal(status, (int)response.StatusCode);
        var outcome = await OutcomeAsync(response);
        // "Patient/_history" is a read of the id "_history", which does not exist.
        Assert.Equal(path == "/fhir/Patient/_history" ? OperationOutcome.IssueType.NotFound : OperationOutcome.IssueType.NotSupported, outcome.Issue.Single().Code);
        if (status == 405) Assert.True(response.Content.Headers.Allow.Count > 0 || path == "/fhir/Binary");
    }

    [Fact]
    public async Task Refusals_answer_an_operation_outcome_401_and_403_included()
    {
        var anonymous = _factory.NewClient();
        foreach (var path in new[] { "/fhir/Patient?name=x", "/fhir/Observation", "/fhir/Patient/1/_history" })
        {
            var response = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(OperationOutcome.IssueType.Login, (await OutcomeAsync(response)).Issue.Single().Code);
        }
        var secretary = await _factory.Data.ApiClientAsync(Roles.Secretary);
        var forbidden = await secretary.DeleteAsync("/fhir/Patient/1");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(OperationOutcome.IssueType.Forbidden, (await OutcomeAsync(forbidden)).Issue.Single().Code);
    }

    [Fact]
    public async Task An_unexpected_error_is_a_500_operation_outcome_without_details()
    {
        var p = await _factory.Data.PatientAsync("Erreur Inattendue Fhir");
        var id = await _factory.Data.ReportAsync(p);
        // A value no code writes: reading the row fails inside EF, as any unforeseen fault would.
        await _factory.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("""UPDATE "PatientReports" SET "Integrity" = 'Corrompu' WHERE "Id" = {0}""", id));
        var http = await _factory.Data.ApiClientAsync(Roles.Integration);
        var response = await http.GetAsync($"/fhir/DiagnosticReport/{id}");
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var outcome = await OutcomeAsync(response);
        Assert.Equal(OperationOutcome.IssueType.Exception, outcome.Issue.Single().Code);
        Assert.Contains("erreur inattendue", outcome.Issue.Single().Diagnostics);
        Assert.DoesNotContain("Exception", outcome.Issue.Single().Diagnostics);
        await _factory.WithDbAsync(db => db.PatientReports.Where(r => r.Id == id).ExecuteDeleteAsync());
    }

    [Fact]
    public async Task A_binary_asked_for_as_fhir_json_is_a_binary_resource_and_otherwise_the_raw_file()
    {
        var p = await _factory.Data.PatientAsync("Binaire Json Fhir");
        var bytes = DemoSeed.MinimalPdf("Binaire");
        var id = await _factory.Data.ReportAsync(p, content: bytes);
        var http = await _factory.Data.ApiClientAsync(Roles.Integration);

        using var asJson = new HttpRequestMessage(HttpMethod.Get, $"/fhir/Binary/{id}");
        asJson.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
        var json = await http.SendAsync(asJson);
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        var binary = await ResourceAsync<Binary>(json);
        Assert.Equal("application/pdf", binary.ContentType);
        Assert.Equal(bytes, binary.Data);

        var resourceClient = new FhirClient(Origin + "/fhir", http, new FhirClientSettings
        {
            PreferredFormat = ResourceFormat.Json,
            BinaryReceivePreference = BinaryTransferBehaviour.UseResource,
            SerializationEngine = FhirSerializationEngineFactory.Strict(ModelInfo.ModelInspector),
        });
        Assert.Equal(bytes, (await resourceClient.ReadAsync<Binary>($"Binary/{id}"))!.Data);

        var raw = await http.GetAsync($"/fhir/Binary/{id}");
        Assert.Equal("application/pdf", raw.Content.Headers.ContentType?.MediaType);
        Assert.Equal(bytes, await raw.Content.ReadAsByteArrayAsync());
        // Each delivery of the whole file counts, whatever its form.
        Assert.Equal(3, await _factory.WithDbAsync(db => db.PatientReports.Where(r => r.Id == id).Select(r => r.DownloadCount).SingleAsync()));
    }

    [Fact]
    public async Task Absolute_urls_come_from_portal_url_never_from_the_host_header()
    {
        var p = await _factory.Data.PatientAsync("Adresse Absolue Fhir");
        await _factory.Data.ReportAsync(p, "Premier");
        await _factory.Data.ReportAsync(p, "Second");
        var http = await _factory.Data.ApiClientAsync(Roles.Integration);
        http.DefaultRequestHeaders.Host = "evil.example";

        var search = await ResourceAsync<Bundle>(await http.GetAsync($"/fhir/DocumentReference?patient={p.PatientId}&_count=1"));
        Assert.StartsWith($"{Origin}/fhir/DocumentReference/", search.Entry.Single().FullUrl);
        Assert.StartsWith($"{Origin}/fhir/DocumentReference?", search.SelfLink!.OriginalString);
        Assert.StartsWith($"{Origin}/fhir/DocumentReference?", search.NextLink!.OriginalString);
        var document = (DocumentReference)search.Entry.Single().Resource!;
        Assert.StartsWith($"{Origin}/fhir/Binary/", document.Content.Single().Attachment.Url);

        var statement = await ResourceAsync<CapabilityStatement>(await http.GetAsync("/fhir/metadata"));
        Assert.Equal($"{Origin}/fhir", statement.Implementation!.Url);

        var push = new DiagnosticReport
        {
            Status = DiagnosticReport.DiagnosticReportStatus.Final,
            Code = new CodeableConcept { Text = "Radiographie" },
            Subject = new ResourceReference($"Patient/{p.PatientId}"),
            PresentedForm = [new Attachment { ContentType = "application/pdf", Data = DemoSeed.MinimalPdf("Radio") }],
        };
        var created = await http.PostAsync("/fhir/DiagnosticReport", new StringContent(
            JsonSerializer.Serialize(push, new JsonSerializerOptions().ForFhir(ModelInfo.ModelInspector)), Encoding.UTF8, "application/fhir+json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.StartsWith($"{Origin}/fhir/DiagnosticReport/", created.Headers.Location!.OriginalString);
        Assert.DoesNotContain("evil.example", await created.Content.ReadAsStringAsync());
    }
}
