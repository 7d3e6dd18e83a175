using System.Net;
using System.Security.Cryptography;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Cimef.Site.Tests.Reports.ReportTestData;

namespace Cimef.Site.Tests.Reports;

public class ReportsApiTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private async Task<HttpClient> BearerAsync(string role = Roles.Doctor)
    {
        var client = factory.NewClient();
        client.UseBearer(await factory.Data.ApiTokenAsync(role));
        return client;
    }

    [Fact]
    public async Task A_workstation_posts_a_report_by_invoice_number_and_gets_201()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var client = await BearerAsync();

        var response = await client.PostAsync("/api/reports/", Multipart(
            new("invoice_number", s.InvoiceNumber), new("title", "Scanner thoracique"), new("file", FileName: "scan.pdf", Bytes: PdfBytes)));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.JsonAsync();
        Assert.True(json.GetProperty("is_active").GetBoolean());
        Assert.Equal(s.InvoiceNumber, json.GetProperty("invoice_number").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(PdfBytes)), json.GetProperty("sha256").GetString());
        Assert.Equal(PdfBytes.Length, json.GetProperty("file_size").GetInt64());
        var id = json.GetProperty("id").GetInt32();
        Assert.True(await factory.WithDbAsync(db => db.PatientReports.AnyAsync(r => r.Id == id && r.IsActive)));
    }

    [Fact]
    public async Task A_post_by_patient_id_uses_the_patients_valid_invoice()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Sent);
        var client = await BearerAsync(Roles.Admin);
        var response = await client.PostAsync("/api/reports/", Multipart(
            new("patient_id", s.PatientId.ToString()), new("title", "Radio"), new("file", FileName: "radio.png", Bytes: Png)));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(s.InvoiceNumber, (await response.JsonAsync()).GetProperty("invoice_number").GetString());
    }

    [Fact]
    public async Task Bad_input_is_400_and_cross_validation_refusals_are_409_with_a_french_error()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var other = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var draft = await factory.Data.PatientAsync(status: InvoiceStatus.Draft);
        var client = await BearerAsync();

        var html = await client.PostAsync("/api/reports/", Multipart(new("invoice_number", s.InvoiceNumber), new("title", "X"), new("file", FileName: "x.pdf", Bytes: HtmlNamedPdf)));
        Assert.Equal(HttpStatusCode.BadRequest, html.StatusCode);
        Assert.Contains("page web", (await html.JsonAsync()).GetProperty("error").GetString());

        var noTitle = await client.PostAsync("/api/reports/", Multipart(new("invoice_number", s.InvoiceNumber), new("file", FileName: "x.pdf", Bytes: PdfBytes)));
        Assert.Equal(HttpStatusCode.BadRequest, noTitle.StatusCode);
        Assert.Equal("Le titre est obligatoire.", (await noTitle.JsonAsync()).GetProperty("error").GetString());

        var mismatch = await client.PostAsync("/api/reports/", Multipart(new("patient_id", other.PatientId.ToString()), new("invoice_number", s.InvoiceNumber), new("title", "X"), new("file", FileName: "x.pdf", Bytes: PdfBytes)));
        Assert.Equal(HttpStatusCode.Conflict, mismatch.StatusCode);

        var noAccess = await client.PostAsync("/api/reports/", Multipart(new("patient_id", draft.PatientId.ToString()), new("title", "X"), new("file", FileName: "x.pdf", Bytes: PdfBytes)));
        Assert.Equal(HttpStatusCode.Conflict, noAccess.StatusCode);
        Assert.StartsWith("Aucune facture trouvée avec ces clés", (await noAccess.JsonAsync()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_cookie_session_cannot_post_multipart_without_the_antiforgery_token()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var doctor = await factory.StaffClientAsync(Roles.Doctor);
        var response = await doctor.PostAsync("/api/reports/", Multipart(new("invoice_number", s.InvoiceNumber), new("title", "X"), new("file", FileName: "x.pdf", Bytes: PdfBytes)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("anti-falsification", (await response.JsonAsync()).GetProperty("error").GetString());
        Assert.False(await factory.WithDbAsync(db => db.PatientReports.AnyAsync(r => r.InvoiceId == s.InvoiceId)));

        var token = await doctor.GetAntiforgeryTokenAsync("/Reports");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/reports/")
        {
            Content = Multipart(new("invoice_number", s.InvoiceNumber), new("title", "X"), new("file", FileName: "x.pdf", Bytes: PdfBytes)),
        };
        request.Headers.Add("RequestVerificationToken", token);
        Assert.Equal(HttpStatusCode.Created, (await doctor.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task Other_roles_and_anonymous_callers_are_refused()
    {
        var anonymous = factory.NewClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PutJsonAsync("/api/reports/1/", new { is_active = false, reason = "x" })).StatusCode);
        var secretary = await BearerAsync(Roles.Secretary);
        Assert.Equal(HttpStatusCode.Forbidden, (await secretary.PutJsonAsync("/api/reports/1/", new { is_active = false, reason = "x" })).StatusCode);
    }

    [Fact]
    public async Task Put_withdraws_with_a_reason_and_republishes()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var id = (await UploadAsync(factory, s, PdfBytes)).Report!.Id;
        var client = await BearerAsync();

        var noReason = await client.PutJsonAsync($"/api/reports/{id}/", new { is_active = false });
        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        Assert.Equal("Indiquez le motif du retrait.", (await noReason.JsonAsync()).GetProperty("error").GetString());

        var off = await client.PutJsonAsync($"/api/reports/{id}/", new { is_active = false, reason = "Doublon" });
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        Assert.False((await off.JsonAsync()).GetProperty("is_active").GetBoolean());

        var on = await client.PutJsonAsync($"/api/reports/{id}/", new { is_active = true, reason = "" });
        Assert.True((await on.JsonAsync()).GetProperty("is_active").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, (await client.PutJsonAsync("/api/reports/999999/", new { is_active = true })).StatusCode);
        var actions = await factory.WithDbAsync(db => db.AuditEntries.Where(a => a.EntityId == id.ToString() && a.EntityType == "PatientReport").Select(a => a.Action).ToListAsync());
        Assert.Contains("report.withdraw", actions);
        Assert.Contains("report.republish", actions);
    }
}
