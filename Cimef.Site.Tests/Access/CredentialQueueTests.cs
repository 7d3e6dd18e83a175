using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Payments;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Access;

/// <summary>
/// Every path that issues credentials queues them exactly once: one message per channel the patient has (e-mail and
/// SMS here), never two per channel. Wave is configured so its payment path is counted too.
/// </summary>
public class CredentialQueueTests(WaveFactory factory) : IClassFixture<WaveFactory>
{
    private Task<int> CredentialRowsAsync(int patientId) =>
        factory.WithDbAsync(db => db.OutboxMessages.CountAsync(m => m.PatientId == patientId && m.Kind == OutboxKind.Credentials));

    /// <summary>Runs <paramref name="issue"/> and asserts it queued one credentials message per channel (e-mail + SMS).</summary>
    private async Task AssertQueuedOnceAsync(int patientId, string path, Func<Task> issue)
    {
        var before = await CredentialRowsAsync(patientId);
        await issue();
        Assert.True(await CredentialRowsAsync(patientId) - before == 2, $"{path}: {await CredentialRowsAsync(patientId) - before} credentials message(s), expected 2 (e-mail and SMS)");
    }

    private async Task<int> AccessIdAsync(int patientId) =>
        await factory.WithDbAsync(db => db.PatientAccesses.Where(a => a.PatientId == patientId).Select(a => a.Id).SingleAsync());

    [Fact]
    public async Task Every_path_that_issues_credentials_queues_them_once()
    {
        var api = await factory.Data.ApiClientAsync(Roles.Secretary);
        var cash = await factory.Data.ApiClientAsync(Roles.Accountant);
        var page = await factory.StaffClientAsync(Roles.Secretary);

        var sent = await factory.Data.PatientAsync(status: InvoiceStatus.Draft);
        await AssertQueuedOnceAsync(sent.PatientId, "invoice sent", async () =>
            Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync($"/api/invoices/{sent.InvoiceId}/send/", new { })).StatusCode));

        var paid = await factory.Data.PatientAsync(status: InvoiceStatus.Draft);
        await AssertQueuedOnceAsync(paid.PatientId, "invoice paid at the desk", async () =>
            Assert.Equal(HttpStatusCode.Created, (await cash.PostJsonAsync($"/api/invoices/{paid.InvoiceId}/payments/", new { amount = 25000, method = "cash" })).StatusCode));

        var generated = await factory.Data.PatientAsync(status: InvoiceStatus.Draft);
        await AssertQueuedOnceAsync(generated.PatientId, "generate (API)", async () =>
            Assert.Equal(HttpStatusCode.Created, (await api.PostJsonAsync("/api/patients/access/generate/", new { patient_id = generated.PatientId })).StatusCode));
        await AssertQueuedOnceAsync(generated.PatientId, "generate again (API)", async () =>
            Assert.Equal(HttpStatusCode.OK, (await api.PostJsonAsync("/api/patients/access/generate/", new { patient_id = generated.PatientId })).StatusCode));

        var p = await factory.Data.PatientAsync();
        var accessId = await AccessIdAsync(p.PatientId);
        await AssertQueuedOnceAsync(p.PatientId, "regenerate (page)", async () =>
            Assert.Equal(HttpStatusCode.OK, (await page.PostFormAsync($"/Access/Details/{accessId}?handler=Regenerate", [])).StatusCode));
        await AssertQueuedOnceAsync(p.PatientId, "regenerate (API)", async () =>
            Assert.Equal(HttpStatusCode.OK, (await api.PutJsonAsync($"/api/patients/access/{accessId}/", new { regenerate = true })).StatusCode));

        Assert.Equal(HttpStatusCode.OK, (await api.PutJsonAsync($"/api/patients/access/{accessId}/", new { is_active = false, deactivation_reason = "compromised" })).StatusCode);
        await AssertQueuedOnceAsync(p.PatientId, "reactivate compromised (API)", async () =>
            Assert.Equal(HttpStatusCode.OK, (await api.PutJsonAsync($"/api/patients/access/{accessId}/", new { is_active = true })).StatusCode));
        Assert.Equal(HttpStatusCode.OK, (await api.PutJsonAsync($"/api/patients/access/{accessId}/", new { is_active = false, deactivation_reason = "compromised" })).StatusCode);
        await AssertQueuedOnceAsync(p.PatientId, "reactivate compromised with regenerate (API)", async () =>
            Assert.Equal(HttpStatusCode.OK, (await api.PutJsonAsync($"/api/patients/access/{accessId}/", new { is_active = true, regenerate = true })).StatusCode));
        Assert.Equal(HttpStatusCode.OK, (await api.PutJsonAsync($"/api/patients/access/{accessId}/", new { is_active = false, deactivation_reason = "compromised" })).StatusCode);
        await AssertQueuedOnceAsync(p.PatientId, "reactivate compromised (page)", async () =>
            Assert.Equal(HttpStatusCode.OK, (await page.PostFormAsync($"/Access/Details/{accessId}?handler=Reactivate", new() { ["regenerate"] = "false" })).StatusCode));

        var wave = await factory.Data.PatientAsync(status: InvoiceStatus.Draft);
        var link = await api.PostJsonAsync($"/api/invoices/{wave.InvoiceId}/payment-link/", new { provider = "wave" });
        Assert.Equal(HttpStatusCode.Created, link.StatusCode);
        var checkoutId = (await link.JsonAsync()).GetProperty("checkout_id").GetString()!;
        await AssertQueuedOnceAsync(wave.PatientId, "Wave payment", async () =>
        {
            var ev = factory.Wave.Event(checkoutId, "checkout.session.completed", "succeeded");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/payments/wave/webhook/") { Content = new ByteArrayContent(ev.Body) };
            request.Content.Headers.ContentType = new("application/json");
            request.Headers.Add("Wave-Signature", ev.Header);
            Assert.Equal(HttpStatusCode.OK, (await factory.NewClient().SendAsync(request)).StatusCode);
        });
    }
}
