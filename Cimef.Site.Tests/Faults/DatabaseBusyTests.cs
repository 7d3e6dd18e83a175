using System.Net;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Hl7.Fhir.Serialization;
using Microsoft.Data.Sqlite;

namespace Cimef.Site.Tests.Faults;

/// <summary>The database held by another writer beyond the busy timeout gives a clean 503, never a stack trace.</summary>
[Trait("Provider", "SqliteOnly")] // SQLITE_BUSY from a second connection holding the write lock
public class DatabaseBusyTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Fact]
    public async Task A_write_blocked_beyond_the_busy_timeout_answers_a_french_503_page()
    {
        await factory.CreateStaffAsync("busy@cimef.test", Roles.Secretary);
        var client = factory.NewClient();
        var token = await client.GetAntiforgeryTokenAsync("/Account/SignIn");

        var response = await WhileDatabaseIsLockedAsync(() => client.PostAsync("/Account/SignIn", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.Email"] = "busy@cimef.test",
            ["Input.Password"] = CimefFactory.StaffPassword,
            ["__RequestVerificationToken"] = token,
        })));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("momentanément", body);
        Assert.DoesNotContain("Exception", body);
        Assert.DoesNotContain("   at ", body);
        Assert.True(response.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task A_staff_form_blocked_the_same_way_answers_503_without_details()
    {
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var token = await admin.GetAntiforgeryTokenAsync("/Staff");
        var response = await WhileDatabaseIsLockedAsync(() => admin.PostAsync("/Staff?handler=Create", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.FullName"] = "Bloqué",
            ["Input.Email"] = "bloque@cimef.test",
            ["Input.Role"] = Roles.Secretary,
            ["Input.Password"] = "Secretariat-2026",
            ["__RequestVerificationToken"] = token,
        })));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.DoesNotContain("Exception", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_fhir_push_blocked_the_same_way_answers_a_503_operation_outcome()
    {
        var p = await factory.Data.PatientAsync("Base Occupée Fhir");
        var fhir = await factory.Data.ApiClientAsync(Roles.Integration);
        var push = new Hl7.Fhir.Model.DiagnosticReport
        {
            Status = Hl7.Fhir.Model.DiagnosticReport.DiagnosticReportStatus.Final,
            Code = new Hl7.Fhir.Model.CodeableConcept { Text = "Scanner" },
            Subject = new Hl7.Fhir.Model.ResourceReference($"Patient/{p.PatientId}"),
            PresentedForm = [new Hl7.Fhir.Model.Attachment { ContentType = "application/pdf", Data = Cimef.Site.Cli.DemoSeed.MinimalPdf("Occupé") }],
        };
        var body = System.Text.Json.JsonSerializer.Serialize(push, new System.Text.Json.JsonSerializerOptions().ForFhir(Hl7.Fhir.Model.ModelInfo.ModelInspector));
        var response = await WhileDatabaseIsLockedAsync(() => fhir.PostAsync("/fhir/DiagnosticReport",
            new StringContent(body, System.Text.Encoding.UTF8, "application/fhir+json")));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var outcome = await Fhir.FhirProtocolTests.OutcomeAsync(response);
        Assert.Equal(Hl7.Fhir.Model.OperationOutcome.IssueType.Transient, outcome.Issue.Single().Code);
        Assert.Contains("momentanément", outcome.Issue.Single().Diagnostics);
        Assert.True(response.Headers.Contains("Retry-After"));
    }

    /// <summary>Runs <paramref name="send"/> while another connection holds the write lock (BEGIN IMMEDIATE).</summary>
    private async Task<HttpResponseMessage> WhileDatabaseIsLockedAsync(Func<Task<HttpResponseMessage>> send)
    {
        using var locker = new SqliteConnection(Sqlite.ConnectionString(Path.Combine(factory.DataDir, "cimef.db")));
        locker.Open();
        using var begin = locker.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE;";
        begin.ExecuteNonQuery();
        try
        {
            return await send();
        }
        finally
        {
            using var rollback = locker.CreateCommand();
            rollback.CommandText = "ROLLBACK;";
            rollback.ExecuteNonQuery();
        }
    }
}
