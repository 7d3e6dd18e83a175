using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Invoicing;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Access;

/// <summary>Deactivation reasons; an access closed as compromised is not reopened by an invoice, only by staff with new credentials.</summary>
public class CompromisedAccessTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private Task<int> CredentialMessagesAsync(int patientId) =>
        factory.WithDbAsync(db => db.OutboxMessages.CountAsync(o => o.PatientId == patientId && o.Kind == OutboxKind.Credentials));

    private Task<PatientAccess> AccessAsync(int accessId) => factory.WithDbAsync(db => db.PatientAccesses.AsNoTracking().SingleAsync(a => a.Id == accessId));

    private async Task<HttpStatusCode> LoginAsync(string key, string password) =>
        (await factory.NewClient().PostJsonAsync("/api/patients/portal/login/", new { access_key = key, password })).StatusCode;

    [Fact]
    public async Task A_compromised_access_stays_closed_through_a_new_invoice_sent_and_paid_with_no_credentials_printed_or_queued()
    {
        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        var accountant = await factory.StaffClientAsync(Roles.Accountant);
        var (_, patientId, accessId) = await Handover.SentInvoiceAsync(secretary, "Identifiants Volés");
        var (key, password) = await factory.Data.CredentialsAsync(accessId);

        var off = await secretary.PutJsonAsync($"/api/patients/access/{accessId}/", new { is_active = false, deactivation_reason = "compromised" });
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        Assert.Equal("compromised", (await off.JsonAsync()).GetProperty("deactivation_reason").GetString());
        Assert.Equal(DeactivationReasons.Compromised, (await AccessAsync(accessId)).DeactivationReason);
        var messagesBefore = await CredentialMessagesAsync(patientId);
        var revealsBefore = (await Handover.RevealsAsync(factory, accessId)).Count;

        // A new invoice, sent, then paid: both succeed as usual, the access stays closed.
        var sentId = (await secretary.CreateInvoiceAsync(patientId, ("ECHO-ABD", 1))).GetProperty("id").GetInt32();
        var sent = await secretary.SendInvoiceAsync(sentId);
        Assert.Equal("sent", sent.GetProperty("status").GetString());
        var paidId = (await secretary.CreateInvoiceAsync(patientId, ("RX-THO", 1))).GetProperty("id").GetInt32();
        var total = await factory.WithDbAsync(db => db.Invoices.Where(i => i.Id == paidId).Select(i => i.Total).SingleAsync());
        var pay = await accountant.PostJsonAsync($"/api/invoices/{paidId}/payments/", new { amount = total, method = "cash" });
        Assert.Equal(HttpStatusCode.Created, pay.StatusCode);
        Assert.Equal("paid", (await pay.JsonAsync()).GetProperty("invoice").GetProperty("status").GetString());
        var payPart = await accountant.PostJsonAsync($"/api/invoices/{sentId}/payments/", new { amount = 1000, method = "wave" });
        Assert.Equal(HttpStatusCode.Created, payPart.StatusCode);

        var access = await AccessAsync(accessId);
        Assert.False(access.IsActive);
        Assert.Equal(DeactivationReasons.Compromised, access.DeactivationReason);
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(key, password));
        Assert.Equal(messagesBefore, await CredentialMessagesAsync(patientId));
        Assert.Equal(1, await factory.WithDbAsync(db => db.PatientAccesses.CountAsync(a => a.PatientId == patientId)));

        foreach (var id in new[] { sentId, paidId })
        {
            var text = await Handover.PdfTextAsync(await secretary.GetAsync($"/api/invoices/{id}/pdf/"));
            Assert.DoesNotContain(password, text);
            Assert.DoesNotContain(Site.Access.CredentialGenerator.FormatKey(key), text);
            Assert.DoesNotContain("Mot de passe", text);
        }
        Assert.Equal(revealsBefore, (await Handover.RevealsAsync(factory, accessId)).Count);

        // The invoice page says so; the reactivate action is there for access management only.
        var page = await (await secretary.GetAsync($"/Billing/Details/{paidId}")).HtmlAsync();
        Assert.Contains("Accès fermé : identifiants compromis", page);
        Assert.Contains($"/Access/Details/{accessId}?handler=Reactivate", page);
        var cashPage = await (await accountant.GetAsync($"/Billing/Details/{paidId}")).HtmlAsync();
        Assert.Contains("Accès fermé : identifiants compromis", cashPage);
        Assert.DoesNotContain("handler=Reactivate", cashPage);

        // The generate API does not reopen it either.
        Assert.Equal(HttpStatusCode.Conflict, (await secretary.PostJsonAsync("/api/patients/access/generate/", new { patient_id = patientId })).StatusCode);
        Assert.False((await AccessAsync(accessId)).IsActive);

        // Lists and details show the reason.
        Assert.Contains("Identifiants compromis", await (await secretary.GetAsync($"/Access/Details/{accessId}")).HtmlAsync());
        Assert.Contains("Identifiants compromis", await (await secretary.HtmxGetAsync("/Access?status=inactive&q=Volés")).HtmlAsync());
        var list = await (await secretary.GetAsync("/api/patients/access/?status=inactive&q=Volés")).JsonAsync();
        Assert.Equal("compromised", Assert.Single(list.GetProperty("results").EnumerateArray()).GetProperty("deactivation_reason").GetString());
    }

    [Fact]
    public async Task Reactivating_a_compromised_access_issues_new_credentials_and_the_old_ones_no_longer_log_in()
    {
        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        var (invoiceId, patientId, accessId) = await Handover.SentInvoiceAsync(secretary, "Réouverture Api");
        var (oldKey, oldPassword) = await factory.Data.CredentialsAsync(accessId);
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(oldKey, oldPassword));
        Assert.Equal(HttpStatusCode.OK, (await secretary.PutJsonAsync($"/api/patients/access/{accessId}/", new { is_active = false, deactivation_reason = "compromised" })).StatusCode);
        var messages = await CredentialMessagesAsync(patientId);

        var on = await secretary.PutJsonAsync($"/api/patients/access/{accessId}/", new { is_active = true });
        Assert.Equal(HttpStatusCode.OK, on.StatusCode);
        var json = await on.JsonAsync();
        Assert.True(json.GetProperty("is_active").GetBoolean());
        Assert.True(json.GetProperty("regenerated").GetBoolean());
        var (newKey, newPassword) = await factory.Data.CredentialsAsync(accessId);
        Assert.NotEqual(oldKey, newKey);
        Assert.NotEqual(oldPassword, newPassword);
        Assert.Null((await AccessAsync(accessId)).DeactivationReason);
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(oldKey, oldPassword));
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(newKey, newPassword));
        Assert.True(await CredentialMessagesAsync(patientId) > messages);
        // The invoice's PDF now carries the new credentials.
        Assert.Contains(newPassword, await Handover.PdfTextAsync(await secretary.GetAsync($"/api/invoices/{invoiceId}/pdf/")));
    }

    [Fact]
    public async Task On_the_access_page_a_compromised_access_reactivates_with_new_credentials_and_another_reason_offers_the_same_ones()
    {
        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        var (_, _, accessId) = await Handover.SentInvoiceAsync(secretary, "Réouverture Page");
        var (oldKey, oldPassword) = await factory.Data.CredentialsAsync(accessId);
        var url = $"/Access/Details/{accessId}";

        Assert.Equal(HttpStatusCode.Redirect, (await secretary.PostFormAsync($"{url}?handler=Deactivate", new() { ["reason"] = "compromised" })).StatusCode);
        var closed = await (await secretary.GetAsync(url)).HtmlAsync();
        Assert.Contains("Motif : Identifiants compromis", closed);
        Assert.DoesNotContain("mêmes identifiants", closed);

        // Even asking for the same credentials, a compromised access gets new ones, shown once and audited.
        var reopened = await secretary.PostFormAsync($"{url}?handler=Reactivate", new() { ["regenerate"] = "false" });
        Assert.Equal(HttpStatusCode.OK, reopened.StatusCode);
        var html = await reopened.HtmlAsync();
        Assert.Contains("nouveaux identifiants", html);
        var (newKey, newPassword) = await factory.Data.CredentialsAsync(accessId);
        Assert.NotEqual(oldKey, newKey);
        Assert.Contains(newPassword, html);
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginAsync(oldKey, oldPassword));
        Assert.Contains(await Handover.RevealsAsync(factory, accessId), r => r.Detail!.Contains("canal page"));

        // Closed at the patient's request: both reactivations are offered; "same" keeps the credentials.
        Assert.Equal(HttpStatusCode.Redirect, (await secretary.PostFormAsync($"{url}?handler=Deactivate", new() { ["reason"] = "patient_request" })).StatusCode);
        var requested = await (await secretary.GetAsync(url)).HtmlAsync();
        Assert.Contains("Motif : Demande du patient", requested);
        Assert.Contains("Réactiver (mêmes identifiants)", requested);
        Assert.Contains("Réactiver avec de nouveaux identifiants", requested);
        Assert.Equal(HttpStatusCode.Redirect, (await secretary.PostFormAsync($"{url}?handler=Reactivate", new())).StatusCode);
        var same = await AccessAsync(accessId);
        Assert.True(same.IsActive);
        Assert.Equal(newKey, same.AccessKey);
        Assert.Equal(HttpStatusCode.OK, await LoginAsync(newKey, newPassword));
    }

    [Fact]
    public async Task An_unknown_deactivation_reason_is_a_400_with_a_french_field_error_and_changes_nothing()
    {
        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        var (_, patientId, accessId) = await Handover.SentInvoiceAsync(secretary, "Motif Inconnu");
        var r = await secretary.PutJsonAsync($"/api/patients/access/{accessId}/", new { is_active = false, deactivation_reason = "stolen" });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("Motif de désactivation inconnu", (await r.JsonAsync()).GetProperty("errors").GetProperty("deactivation_reason")[0].GetString());
        Assert.True((await AccessAsync(accessId)).IsActive);

        // No reason: "other", and a new invoice reactivates it with the same credentials (the seed's rule).
        var (key, password) = await factory.Data.CredentialsAsync(accessId);
        var off = await (await secretary.PutJsonAsync($"/api/patients/access/{accessId}/", new { is_active = false })).JsonAsync();
        Assert.Equal("other", off.GetProperty("deactivation_reason").GetString());
        await secretary.SendInvoiceAsync((await secretary.CreateInvoiceAsync(patientId, ("RX-THO", 1))).GetProperty("id").GetInt32());
        var again = await AccessAsync(accessId);
        Assert.True(again.IsActive);
        Assert.Null(again.DeactivationReason);
        Assert.Equal((key, password), await factory.Data.CredentialsAsync(accessId));
    }
}
