using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Cimef.Site.Cli;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;
using Hl7.Fhir.Serialization;
using Microsoft.EntityFrameworkCore;
using Task = System.Threading.Tasks.Task;
using Patient = Hl7.Fhir.Model.Patient;

namespace Cimef.Site.Tests.Fhir;

/// <summary>
/// The FHIR R4 API driven by Firely's FhirClient over the test server, every response parsed in the SDK's strict mode:
/// an Integration token finds a patient, reads and downloads their reports, pushes one that reaches the patient's list.
/// </summary>
public class FhirApiTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public FhirApiTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Reports:MaxUploadMegabytes"] = "1";
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:Url"] = "https://localhost/patient";
    }

    public static FhirClient Client(HttpClient http) => new("https://localhost/fhir", http, new FhirClientSettings
    {
        PreferredFormat = ResourceFormat.Json,
        BinaryReceivePreference = BinaryTransferBehaviour.UseData,
        SerializationEngine = FhirSerializationEngineFactory.Strict(ModelInfo.ModelInspector),
    });

    private async Task<(FhirClient Fhir, HttpClient Http)> IntegrationAsync()
    {
        var http = await _factory.Data.ApiClientAsync(Roles.Integration);
        return (Client(http), http);
    }

    private static DiagnosticReport Push(int patientId, byte[] file, string? identifier = null) => new()
    {
        Status = DiagnosticReport.DiagnosticReportStatus.Final,
        Code = new CodeableConcept { Text = "Scanner thoracique" },
        Subject = new ResourceReference($"Patient/{patientId}"),
        Identifier = identifier is null ? [] : [new Identifier("urn:ris:cimef", identifier)],
        PresentedForm = [new Attachment { ContentType = "application/pdf", Data = file, Title = "Scanner thoracique" }],
    };

    [Fact]
    public async Task The_capability_statement_lists_what_is_supported()
    {
        var (fhir, _) = await IntegrationAsync();
        var statement = await fhir.CapabilityStatementAsync();
        Assert.Equal(FHIRVersion.N4_0_1, statement!.FhirVersion);
        var resources = statement.Rest.Single().Resource.ToDictionary(r => r.Type!, r => r.Interaction.Select(i => i.Code!.Value).ToHashSet());
        Assert.Equal(["Binary", "DiagnosticReport", "DocumentReference", "Patient"], resources.Keys.Order());
        Assert.Contains(CapabilityStatement.TypeRestfulInteraction.Create, resources["DiagnosticReport"]);
        Assert.DoesNotContain(CapabilityStatement.TypeRestfulInteraction.Create, resources["Patient"]);
    }

    [Fact]
    public async Task A_patient_is_found_by_identifier_phone_and_name_and_read()
    {
        var p = await _factory.Data.PatientAsync("Aïssatou Ndiaye Fhir");
        var (fhir, _) = await IntegrationAsync();

        foreach (var criteria in new[] { $"identifier=urn:cimef:patient-id|{p.PatientId}", $"phone={p.Phone}", "name=aissatou ndiaye fhir" })
        {
            var bundle = await fhir.SearchAsync<Patient>([criteria]);
            Assert.Equal(Bundle.BundleType.Searchset, bundle!.Type);
            var found = Assert.Single(bundle.Entry);
            Assert.Equal(p.PatientId.ToString(), found.Resource!.Id);
            Assert.Equal(1, bundle.Total);
        }

        var patient = await fhir.ReadAsync<Patient>($"Patient/{p.PatientId}");
        Assert.Equal("Aïssatou Ndiaye Fhir", patient!.Name.Single().Text);
        Assert.Equal(p.Phone, patient.Telecom.First(t => t.System == ContactPoint.ContactPointSystem.Phone).Value);

        var missing = await Assert.ThrowsAsync<FhirOperationException>(() => fhir.ReadAsync<Patient>("Patient/999999"));
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Contains("introuvable", missing.Outcome!.Issue.Single().Diagnostics);
    }

    [Fact]
    public async Task Reports_are_listed_read_and_downloaded_with_range_as_a_counted_audited_download()
    {
        var p = await _factory.Data.PatientAsync("Moussa Diallo Fhir");
        var bytes = DemoSeed.MinimalPdf("FHIR");
        var id = await _factory.Data.ReportAsync(p, "IRM du genou", content: bytes);
        var (fhir, http) = await IntegrationAsync();

        var bundle = await fhir.SearchAsync<DiagnosticReport>([$"patient={p.PatientId}", "date=ge2026-11-01"]);
        var report = (DiagnosticReport)Assert.Single(bundle!.Entry).Resource!;
        Assert.Equal(id.ToString(), report.Id);
        Assert.Equal(DiagnosticReport.DiagnosticReportStatus.Final, report.Status);
        Assert.Equal("RAD", report.Category.Single().Coding.Single().Code);
        Assert.Equal($"Patient/{p.PatientId}", report.Subject!.Reference);
        var form = report.PresentedForm.Single();
        Assert.Equal("application/pdf", form.ContentType);
        Assert.Equal(bytes.Length, form.SizeUnsignedInt);
        Assert.Equal(SHA1.HashData(bytes), form.Hash);
        Assert.Equal($"https://localhost/fhir/Binary/{id}", form.Url);
        Assert.Empty((await fhir.SearchAsync<DiagnosticReport>([$"patient={p.PatientId}", "date=lt2026-11-01"]))!.Entry);

        var read = await fhir.ReadAsync<DiagnosticReport>($"DiagnosticReport/{id}");
        Assert.Equal("IRM du genou", read!.PresentedForm.Single().Title);
        var docs = await fhir.SearchAsync<DocumentReference>([$"patient={p.PatientId}"]);
        var doc = (DocumentReference)Assert.Single(docs!.Entry).Resource!;
        Assert.Equal(DocumentReferenceStatus.Current, doc.Status);
        Assert.Equal(form.Url, (await fhir.ReadAsync<DocumentReference>($"DocumentReference/{id}"))!.Content.Single().Attachment.Url);

        var binary = await fhir.ReadAsync<Binary>(form.Url!);
        Assert.Equal(bytes, binary!.Data);
        Assert.Equal("application/pdf", binary.ContentType);

        using var ranged = new HttpRequestMessage(HttpMethod.Get, $"/fhir/Binary/{id}");
        ranged.Headers.Range = new RangeHeaderValue(5, 9);
        var part = await http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(bytes[5..10], await part.Content.ReadAsByteArrayAsync());

        var (count, audits) = await _factory.WithDbAsync(async db => (
            (await db.PatientReports.SingleAsync(r => r.Id == id)).DownloadCount,
            await db.AuditEntries.CountAsync(a => a.Action == "report.download" && a.EntityId == id.ToString())));
        Assert.Equal(1, count); // the whole file once; the range continuation is audited, not counted
        Assert.Equal(2, audits);
    }

    [Fact]
    public async Task Search_pages_with_count_and_a_next_link()
    {
        var p = await _factory.Data.PatientAsync("Paging Fhir");
        for (var i = 0; i < 3; i++) await _factory.Data.ReportAsync(p, $"Rapport {i}");
        var (fhir, _) = await IntegrationAsync();
        var first = await fhir.SearchAsync<DocumentReference>([$"patient={p.PatientId}", "unknown-param=ignored"], pageSize: 2);
        Assert.Equal(3, first!.Total);
        Assert.Equal(2, first.Entry.Count);
        Assert.NotNull(first.NextLink);
        var second = await fhir.ContinueAsync(first);
        Assert.Single(second!.Entry);
        Assert.Null(second.NextLink);
        Assert.Empty(first.Entry.Select(e => e.Resource!.Id).Intersect(second.Entry.Select(e => e.Resource!.Id)));
    }

    [Theory]
    [InlineData("date=xx2026-11-01")]
    [InlineData("date=ge2026-13-45")]
    [InlineData("patient=abc")]
    [InlineData("_count=0")]
    public async Task A_malformed_search_is_a_400_operation_outcome_in_french(string criteria)
    {
        var (fhir, _) = await IntegrationAsync();
        var e = await Assert.ThrowsAsync<FhirOperationException>(() => fhir.SearchAsync<DiagnosticReport>([criteria]));
        Assert.Equal(HttpStatusCode.BadRequest, e.Status);
        Assert.Contains("invalide", e.Outcome!.Issue.Single().Diagnostics);
    }

    [Fact]
    public async Task A_pushed_report_reaches_the_patient_and_a_retry_with_if_none_exist_creates_nothing()
    {
        var p = await _factory.Data.PatientAsync("Fatou Sarr Fhir");
        var (fhir, _) = await IntegrationAsync();
        var bytes = DemoSeed.MinimalPdf("Scanner");

        var created = await fhir.CreateAsync(Push(p.PatientId, bytes, "ACC-1"));
        Assert.Equal(HttpStatusCode.Created.ToString("D"), fhir.LastResult!.Status!.Split(' ')[0]);
        Assert.Equal($"https://localhost/fhir/DiagnosticReport/{created!.Id}", fhir.LastResult.Location);
        Assert.Equal(DiagnosticReport.DiagnosticReportStatus.Final, created.Status);

        var again = await fhir.ConditionalCreateAsync(Push(p.PatientId, bytes, "ACC-1"), new SearchParams().Add("identifier", "urn:ris:cimef|ACC-1"));
        Assert.Equal(created.Id, again!.Id);
        Assert.Equal("200", fhir.LastResult!.Status!.Split(' ')[0]);
        Assert.Equal(1, await _factory.WithDbAsync(db => db.PatientReports.CountAsync(r => r.IdentifierValue == "ACC-1")));
        var duplicate = await Assert.ThrowsAsync<FhirOperationException>(() => fhir.CreateAsync(Push(p.PatientId, bytes, "ACC-1")));
        Assert.Equal(HttpStatusCode.Conflict, duplicate.Status);
        Assert.Contains("If-None-Exist", duplicate.Outcome!.Issue.Single().Diagnostics);
        Assert.Equal(1, await _factory.WithDbAsync(db => db.PatientReports.CountAsync(r => r.IdentifierValue == "ACC-1")));

        var patient = await _factory.PatientClientAsync(p);
        var list = await (await patient.GetAsync("/api/reports/patient/")).JsonAsync();
        var entry = Assert.Single(list.EnumerateArray());
        Assert.Equal(int.Parse(created.Id!), entry.GetProperty("id").GetInt32());
        var download = await patient.GetAsync(entry.GetProperty("download_url").GetString()!);
        Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync());
        Assert.True(await _factory.WithDbAsync(db => db.OutboxMessages.AnyAsync(m => m.ReportId == int.Parse(created.Id!))));

        var asDocument = await fhir.CreateAsync(new DocumentReference
        {
            Status = DocumentReferenceStatus.Current,
            Subject = new ResourceReference($"Patient/{p.PatientId}"),
            Description = "Échographie abdominale",
            Content = [new DocumentReference.ContentComponent { Attachment = new Attachment { ContentType = "application/pdf", Data = bytes } }],
        });
        Assert.Equal("Échographie abdominale", asDocument!.Description);
    }

    [Fact]
    public async Task A_withdrawn_report_is_entered_in_error_and_its_binary_is_gone()
    {
        var p = await _factory.Data.PatientAsync("Retrait Fhir");
        var id = await _factory.Data.ReportAsync(p);
        await _factory.WithDbAsync(db => db.PatientReports.Where(r => r.Id == id).ExecuteUpdateAsync(u => u
            .SetProperty(r => r.IsActive, false).SetProperty(r => r.WithdrawalReason, "Erreur de patient")
            .SetProperty(r => r.WithdrawnAt, CimefFactory.Start.UtcDateTime).SetProperty(r => r.WithdrawnBy, "tests")));
        var (fhir, _) = await IntegrationAsync();
        var report = await fhir.ReadAsync<DiagnosticReport>($"DiagnosticReport/{id}");
        Assert.Equal(DiagnosticReport.DiagnosticReportStatus.EnteredInError, report!.Status);
        Assert.Contains("Erreur de patient", report.Conclusion);
        Assert.Equal(DocumentReferenceStatus.EnteredInError, (await fhir.ReadAsync<DocumentReference>($"DocumentReference/{id}"))!.Status);
        var gone = await Assert.ThrowsAsync<FhirOperationException>(() => fhir.ReadAsync<Binary>($"Binary/{id}"));
        Assert.Equal(HttpStatusCode.Gone, gone.Status);
    }

    [Fact]
    public async Task A_push_without_a_released_invoice_is_422_a_bad_file_400_and_a_too_large_one_413()
    {
        var draft = await _factory.Data.PatientAsync("Brouillon Fhir", InvoiceStatus.Draft);
        var ok = await _factory.Data.PatientAsync("Valide Fhir");
        var (fhir, _) = await IntegrationAsync();

        var refused = await Assert.ThrowsAsync<FhirOperationException>(() => fhir.CreateAsync(Push(draft.PatientId, DemoSeed.MinimalPdf("x"))));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Status);
        Assert.Contains("Aucune facture", refused.Outcome!.Issue.Single().Diagnostics);

        var html = await Assert.ThrowsAsync<FhirOperationException>(() => fhir.CreateAsync(Push(ok.PatientId, "<html><script>x</script></html>"u8.ToArray())));
        Assert.Equal(HttpStatusCode.BadRequest, html.Status);

        var big = new byte[1024 * 1024 + 10];
        "%PDF-1.4\n"u8.CopyTo(big);
        var tooLarge = await Assert.ThrowsAsync<FhirOperationException>(() => fhir.CreateAsync(Push(ok.PatientId, big)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.Status);
        Assert.Contains("trop volumineux", tooLarge.Outcome!.Issue.Single().Diagnostics);
        Assert.Equal(0, await _factory.WithDbAsync(db => db.PatientReports.CountAsync(r => r.PatientAccessId == ok.AccessId)));
    }
}
