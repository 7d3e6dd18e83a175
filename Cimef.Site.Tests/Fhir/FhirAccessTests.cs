using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;
using Microsoft.EntityFrameworkCore;
using Task = System.Threading.Tasks.Task;
using Patient = Hl7.Fhir.Model.Patient;

namespace Cimef.Site.Tests.Fhir;

/// <summary>Who reaches /fhir (Integration and Admin tokens only) and what an Integration account cannot reach.</summary>
public class FhirAccessTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Theory]
    [InlineData(Roles.Secretary)]
    [InlineData(Roles.Doctor)]
    [InlineData(Roles.Accountant)]
    [InlineData(Roles.Admin)]
    [InlineData(Roles.Integration)]
    public async Task A_staff_cookie_is_not_enough(string role)
    {
        var fhir = FhirApiTests.Client(await factory.StaffClientAsync(role));
        var e = await Assert.ThrowsAsync<FhirOperationException>(() => fhir.SearchAsync<Patient>(["name=x"]));
        Assert.Equal(HttpStatusCode.Unauthorized, e.Status);
        Assert.Contains("jeton d'API", e.Outcome!.Issue.Single().Diagnostics);
    }

    [Theory]
    [InlineData(Roles.Secretary)]
    [InlineData(Roles.Doctor)]
    [InlineData(Roles.Accountant)]
    public async Task Other_roles_tokens_are_forbidden_and_audited(string role)
    {
        var fhir = FhirApiTests.Client(await factory.Data.ApiClientAsync(role));
        var e = await Assert.ThrowsAsync<FhirOperationException>(() => fhir.ReadAsync<Patient>("Patient/1"));
        Assert.Equal(HttpStatusCode.Forbidden, e.Status);
        Assert.Contains("Intégration", e.Outcome!.Issue.Single().Diagnostics);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "authz.forbidden" && a.Detail == "GET /fhir/Patient/1")));
    }

    [Fact]
    public async Task A_patient_session_or_no_credentials_get_401_and_admin_tokens_pass()
    {
        var p = await factory.Data.PatientAsync("Session Fhir");
        var patient = FhirApiTests.Client(await factory.PatientClientAsync(p));
        var e = await Assert.ThrowsAsync<FhirOperationException>(() => patient.ReadAsync<Patient>($"Patient/{p.PatientId}"));
        Assert.Equal(HttpStatusCode.Unauthorized, e.Status);
        var anonymous = FhirApiTests.Client(factory.NewClient());
        Assert.Equal(HttpStatusCode.Unauthorized, (await Assert.ThrowsAsync<FhirOperationException>(() => anonymous.ReadAsync<Patient>($"Patient/{p.PatientId}"))).Status);

        var admin = FhirApiTests.Client(await factory.Data.ApiClientAsync(Roles.Admin));
        Assert.Equal("Session Fhir", (await admin.ReadAsync<Patient>($"Patient/{p.PatientId}"))!.Name.Single().Text);
    }

    [Fact]
    public async Task An_integration_account_reaches_no_other_api_and_no_staff_page()
    {
        var token = await factory.Data.ApiClientAsync(Roles.Integration);
        Assert.Equal(HttpStatusCode.Forbidden, (await token.GetAsync("/api/patients/?q=a")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await token.PostJsonAsync("/api/invoices/", new { patient_id = 1 })).StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, (await token.GetAsync("/Patients")).StatusCode);

        var cookie = await factory.StaffClientAsync(Roles.Integration);
        foreach (var page in new[] { "/", "/Patients", "/Reports" })
        {
            var response = await cookie.GetAsync(page);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/Account/Denied", response.Headers.Location!.PathAndQuery);
        }
    }
}
