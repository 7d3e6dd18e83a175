using System.Net;
using Cimef.Site.Auditing;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Task = System.Threading.Tasks.Task;
using Patient = Hl7.Fhir.Model.Patient;

namespace Cimef.Site.Tests.Fhir;

/// <summary>
/// FHIR reads are attributable and bounded: every read and search is audited under the token's account with the
/// number of records it returned, a search names at least one criterion, an account reading past
/// Alerts:FhirRecordsPerHour raises fhir_bulk_read, and a Binary is served by the patient download's rule.
/// </summary>
public class FhirAuditTests : IClassFixture<CimefFactory>
{
    private readonly CimefFactory _factory;

    public FhirAuditTests(CimefFactory factory)
    {
        _factory = factory;
        factory.Settings["Portal:Url"] = "https://localhost/patient";
        factory.Settings["Alerts:FhirRecordsPerHour"] = "10";
    }

    private DateTime Now => _factory.Time.GetUtcNow().UtcDateTime;

    private async Task<(FhirClient Fhir, HttpClient Http)> IntegrationAsync()
    {
        var http = await _factory.Data.ApiClientAsync(Roles.Integration);
        return (FhirApiTests.Client(http), http);
    }

    private async Task<List<AuditEntry>> EntriesOfAsync(string userName)
    {
        await _factory.FlushEventsAsync();
        return await _factory.WithDbAsync(db => db.AuditEntries.Where(a => a.UserName == userName).OrderBy(a => a.Id).ToListAsync());
    }

    [Fact]
    public async Task Reads_and_searches_are_audited_under_the_integration_account_with_what_they_returned()
    {
        var p = await _factory.Data.PatientAsync("Audit Lecture Fhir");
        await _factory.Data.ReportAsync(p, "Scanner");
        await _factory.Data.ReportAsync(p, "IRM");
        var (fhir, _) = await IntegrationAsync();

        await fhir.ReadAsync<Patient>($"Patient/{p.PatientId}");
        await fhir.SearchAsync<DiagnosticReport>([$"patient={p.PatientId}"]);
        await Assert.ThrowsAsync<FhirOperationException>(() => fhir.ReadAsync<Patient>("Patient/999999"));

        await _factory.FlushEventsAsync();
        var account = await _factory.WithDbAsync(db => db.AuditEntries
            .Where(a => a.Action == "fhir.read" && a.EntityType == "Patient" && a.EntityId == p.PatientId.ToString()).Select(a => a.UserName).SingleAsync());
        Assert.StartsWith("api-", account);
        var entries = await EntriesOfAsync(account);
        Assert.Equal(3, entries.Count);
        Assert.All(entries, e => Assert.NotNull(e.UserId));

        Assert.Equal(("fhir.read", "Patient", p.PatientId.ToString()), (entries[0].Action, entries[0].EntityType, entries[0].EntityId));
        Assert.StartsWith("1 résultat", entries[0].Detail);
        Assert.Equal(("fhir.search", "DiagnosticReport"), (entries[1].Action, entries[1].EntityType));
        Assert.StartsWith("2 résultat", entries[1].Detail);
        Assert.Contains($"patient={p.PatientId}", entries[1].Detail);
        Assert.Equal(("fhir.read", "999999"), (entries[2].Action, entries[2].EntityId));
        Assert.StartsWith("0 résultat", entries[2].Detail);
    }

    [Theory]
    [InlineData("Patient", "")]
    [InlineData("Patient", "?_count=5")]
    [InlineData("DiagnosticReport", "")]
    [InlineData("DiagnosticReport", "?_count=100&_offset=0&unknown=1")]
    [InlineData("DocumentReference", "")]
    public async Task A_search_without_any_criterion_is_a_400_operation_outcome(string type, string query)
    {
        var (_, http) = await IntegrationAsync();
        var response = await http.GetAsync($"/fhir/{type}{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var outcome = await FhirProtocolTests.OutcomeAsync(response);
        Assert.Contains("sans critère", outcome.Issue.Single().Diagnostics);
    }

    [Fact]
    public async Task An_account_reading_more_records_than_the_hourly_threshold_raises_fhir_bulk_read()
    {
        var p = await _factory.Data.PatientAsync("Lecture En Masse Fhir");
        for (var i = 0; i < 3; i++) await _factory.Data.ReportAsync(p, $"Rapport {i}");
        var (bulk, _) = await IntegrationAsync();
        var (quiet, _) = await IntegrationAsync();

        // 9 records each: at the threshold's side of 10, nothing.
        for (var i = 0; i < 3; i++)
        {
            await bulk.SearchAsync<DocumentReference>([$"patient={p.PatientId}"]);
            await quiet.SearchAsync<DocumentReference>([$"patient={p.PatientId}"]);
        }
        Assert.DoesNotContain(await EvaluateAsync(), a => a.Kind == "fhir_bulk_read");

        // Two more records (a read, then a search that finds one) take the bulk account past 10 within the hour.
        _factory.Time.Advance(TimeSpan.FromMinutes(20));
        await bulk.ReadAsync<Patient>($"Patient/{p.PatientId}");
        await bulk.SearchAsync<Patient>([$"_id={p.PatientId}"]);
        var alert = Assert.Single(await EvaluateAsync(), a => a.Kind == "fhir_bulk_read");
        Assert.Equal(AlertLevel.Critical, alert.Level);
        Assert.Contains("11 enregistrements", alert.Detail);
        Assert.Contains("seuil 10", alert.Detail);
        var bulkAccount = await _factory.WithDbAsync(db => db.AuditEntries
            .Where(a => a.Action == "fhir.search" && a.EntityType == "Patient" && a.Detail!.Contains($"_id={p.PatientId}")).Select(a => a.UserName).SingleAsync());
        Assert.Equal($"compte {bulkAccount}", alert.Subject);

        // An hour later the evidence has aged out: nothing new.
        _factory.Time.Advance(TimeSpan.FromHours(1));
        Assert.DoesNotContain(await EvaluateAsync(), a => a.Kind == "fhir_bulk_read");
    }

    private async Task<IReadOnlyList<Alert>> EvaluateAsync()
    {
        await _factory.FlushEventsAsync();
        return await _factory.WithScopeAsync(sp => sp.GetRequiredService<AlertRules>().EvaluateAsync(Now));
    }

    [Fact]
    public async Task A_binary_follows_the_patient_download_rule_unpublished_is_gone_and_a_missing_file_raises_the_alert()
    {
        var p = await _factory.Data.PatientAsync("Binaire Règle Fhir");
        var (fhir, _) = await IntegrationAsync();
        var patient = await _factory.PatientClientAsync(p);

        // Stored but not published (no withdrawal date): the patient cannot have it, nor can an integration.
        var unpublished = await _factory.Data.ReportAsync(p, active: false);
        Assert.Equal(HttpStatusCode.Gone, (await patient.GetAsync($"/patient/reports/{unpublished}")).StatusCode);
        var gone = await Assert.ThrowsAsync<FhirOperationException>(() => fhir.ReadAsync<Binary>($"Binary/{unpublished}"));
        Assert.Equal(HttpStatusCode.Gone, gone.Status);

        var missing = await _factory.Data.ReportAsync(p);
        await _factory.WithScopeAsync(async sp =>
        {
            var name = await sp.GetRequiredService<Cimef.Site.Data.CimefDb>().PatientReports.Where(r => r.Id == missing).Select(r => r.StoredFileName).SingleAsync();
            await sp.GetRequiredService<ReportStore>().DeleteAsync(name);
        });
        var unavailable = await Assert.ThrowsAsync<FhirOperationException>(() => fhir.ReadAsync<Binary>($"Binary/{missing}"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.Status);
        Assert.Contains("momentanément indisponible", unavailable.Outcome!.Issue.Single().Diagnostics);
        var alert = await _factory.WithDbAsync(db => db.Alerts.SingleAsync(a => a.Subject == $"rapport {missing}"));
        Assert.Equal((AlertKinds.ReportFile, AlertLevel.Critical), (alert.Kind, alert.Level));
        Assert.Contains("(FHIR)", alert.Detail);
        Assert.Equal(0, await _factory.WithDbAsync(db => db.PatientReports.Where(r => r.Id == missing).Select(r => r.DownloadCount).SingleAsync()));
    }
}
