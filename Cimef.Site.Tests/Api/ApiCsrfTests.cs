using System.Net;
using System.Text;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Invoicing;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Api;

/// <summary>Body-less state changes under /api: a cookie caller needs a JSON content type or an antiforgery token.</summary>
public class ApiCsrfTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private async Task<(HttpClient Secretary, int InvoiceId)> DraftInvoiceAsync()
    {
        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        var patientId = await secretary.CreatePatientAsync("Csrf " + Guid.NewGuid().ToString("N")[..6]);
        var id = (await secretary.CreateInvoiceAsync(patientId, ("RX-THO", 1))).GetProperty("id").GetInt32();
        return (secretary, id);
    }

    private Task<InvoiceStatus> StatusAsync(int id) => factory.WithDbAsync(db => db.Invoices.Where(i => i.Id == id).Select(i => i.Status).SingleAsync());

    [Fact]
    public async Task A_cookie_authenticated_send_without_json_is_refused_and_changes_nothing_with_json_it_succeeds()
    {
        var (secretary, id) = await DraftInvoiceAsync();
        var audits = await factory.WithDbAsync(db => db.AuditEntries.CountAsync());
        var outbox = await factory.WithDbAsync(db => db.OutboxMessages.CountAsync());

        var bare = await secretary.PostAsync($"/api/invoices/{id}/send/", null);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, bare.StatusCode);
        Assert.Contains("application/json", (await bare.JsonAsync()).GetProperty("error").GetString());
        var form = await secretary.PostAsync($"/api/invoices/{id}/send/", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);
        var multipart = await secretary.PostAsync($"/api/invoices/{id}/send/", new MultipartFormDataContent { { new StringContent("1"), "x" } });
        Assert.Equal(HttpStatusCode.BadRequest, multipart.StatusCode);
        Assert.Contains("anti-falsification", (await multipart.JsonAsync()).GetProperty("error").GetString());
        var text = await secretary.PostAsync($"/api/invoices/{id}/send/", new StringContent("x", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);

        Assert.Equal(InvoiceStatus.Draft, await StatusAsync(id));
        Assert.Equal(audits, await factory.WithDbAsync(db => db.AuditEntries.CountAsync()));
        Assert.Equal(outbox, await factory.WithDbAsync(db => db.OutboxMessages.CountAsync()));

        var json = await secretary.PostAsync($"/api/invoices/{id}/send/", new StringContent("", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        Assert.Equal(InvoiceStatus.Sent, await StatusAsync(id));
    }

    [Fact]
    public async Task A_cookie_caller_with_the_antiforgery_token_header_may_send_no_body()
    {
        var (secretary, id) = await DraftInvoiceAsync();
        var token = await secretary.GetAntiforgeryTokenAsync("/Account/SignIn");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/invoices/{id}/send/");
        request.Headers.Add("RequestVerificationToken", token);
        Assert.Equal(HttpStatusCode.OK, (await secretary.SendAsync(request)).StatusCode);
        Assert.Equal(InvoiceStatus.Sent, await StatusAsync(id));
    }

    [Fact]
    public async Task A_bearer_caller_needs_no_content_type()
    {
        var (_, id) = await DraftInvoiceAsync();
        var bearer = await factory.Data.ApiClientAsync(Roles.Secretary);
        var response = await bearer.PostAsync($"/api/invoices/{id}/send/", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(InvoiceStatus.Sent, await StatusAsync(id));
    }
}
