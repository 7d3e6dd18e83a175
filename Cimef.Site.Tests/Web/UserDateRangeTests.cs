using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Web;

namespace Cimef.Site.Tests.Web;

/// <summary>A date a user types far outside any plausible range is a French message, never a 500.</summary>
public class UserDateRangeTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Theory]
    [InlineData("/Billing/Payments?date=9999-12-31")]
    [InlineData("/Billing/Payments?date=0001-01-01")]
    [InlineData("/Audit?To=9999-12-31")]
    [InlineData("/Audit?From=0001-01-01&To=9999-12-31")]
    [InlineData("/Audit?handler=Csv&To=9999-12-31")]
    [InlineData("/Audit?handler=Csv&From=0001-01-01")]
    public async Task An_out_of_range_date_on_a_staff_page_gets_the_french_message_not_a_500(string url)
    {
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var response = await admin.GetAsync(url);
        Assert.NotEqual(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains(UserDates.OutOfRange, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/Billing/Payments?date=9999-12-31")]
    [InlineData("/Audit?To=9999-12-31")]
    public async Task An_out_of_range_date_in_an_htmx_request_gets_the_french_message(string url)
    {
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var response = await admin.HtmxGetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(UserDates.OutOfRange, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("9999-12-31")]
    [InlineData("0001-01-01")]
    public async Task An_out_of_range_birth_date_on_the_json_api_is_a_french_400(string date)
    {
        var client = await factory.StaffClientAsync(Roles.Secretary);
        var response = await client.PostJsonAsync("/api/patients/", new { full_name = "Awa Ndiaye", phone = "+221771234567", date_of_birth = date });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var json = await response.JsonAsync();
        Assert.Equal(UserDates.OutOfRange, json.GetProperty("errors").GetProperty("date_of_birth")[0].GetString());
    }

    [Theory]
    [InlineData("9999-12-31")]
    [InlineData("lt0001-01-01")]
    [InlineData("9999-12-31T23:59:59.9999999Z")]
    public async Task An_out_of_range_date_on_the_fhir_api_is_a_french_400(string date)
    {
        var client = await factory.Data.ApiClientAsync(Roles.Admin);
        var response = await client.GetAsync("/fhir/DiagnosticReport?date=" + Uri.EscapeDataString(date));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"années {UserDates.FirstYear} à {UserDates.LastYear}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_out_of_range_birth_date_on_the_patient_form_gets_the_french_message()
    {
        var client = await factory.StaffClientAsync(Roles.Secretary);
        var response = await client.PostFormAsync("/Patients/Create", new()
        {
            ["Input.FullName"] = "Awa Ndiaye", ["Input.Phone"] = "+221771234568", ["Input.DateOfBirth"] = "9999-12-31",
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(UserDates.OutOfRange, await response.Content.ReadAsStringAsync());
    }
}
