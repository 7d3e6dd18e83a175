using System.Net;
using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data.Entities;
using Cimef.Site.Pdf;
using Cimef.Site.Tests.Invoicing;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using UglyToad.PdfPig;

namespace Cimef.Site.Tests.Access;

/// <summary>Shared steps: sent invoices for new patients, the patient's password, the PDF's words.</summary>
internal static class Handover
{
    public static async Task<(int InvoiceId, int PatientId, int AccessId)> SentInvoiceAsync(HttpClient secretary, string name)
    {
        var patientId = await secretary.CreatePatientAsync(name);
        var id = (await secretary.CreateInvoiceAsync(patientId, ("RX-THO", 1))).GetProperty("id").GetInt32();
        var sent = await secretary.SendInvoiceAsync(id);
        return (id, patientId, sent.GetProperty("patient_access_id").GetInt32());
    }

    public static async Task<string> PdfTextAsync(HttpResponseMessage r)
    {
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var pdf = PdfDocument.Open(await r.Content.ReadAsByteArrayAsync());
        return string.Join(" ", pdf.GetPages().SelectMany(p => p.GetWords()).Select(w => w.Text));
    }

    public static Task<List<AuditEntry>> RevealsAsync(CimefFactory factory, int accessId) =>
        factory.WithDbAsync(db => db.AuditEntries.Where(a => a.Action == "access.reveal" && a.EntityId == accessId.ToString()).OrderBy(a => a.Id).ToListAsync());
}

/// <summary>Default Access:CredentialRoles (Admin, Secretary, Accountant): the cash desk prints passwords, every time audited.</summary>
public class CredentialHandoverTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Fact]
    public async Task An_accountant_looping_over_invoice_pdfs_gets_each_password_audited_and_a_burst_past_the_hourly_cap_raises_an_alert()
    {
        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        var accountantEmail = $"caisse-{Guid.NewGuid():N}@cimef.test";
        await factory.CreateStaffAsync(accountantEmail, Roles.Accountant);
        var bearer = await factory.Data.ApiClientAsync(Roles.Accountant);
        var cookie = factory.NewClient();
        Assert.Equal(HttpStatusCode.Redirect, (await cookie.PostFormAsync("/Account/SignIn",
            new() { ["Input.Email"] = accountantEmail, ["Input.Password"] = CimefFactory.StaffPassword })).StatusCode);

        var invoices = new List<(int InvoiceId, int AccessId)>();
        for (var i = 0; i < 4; i++)
        {
            var (invoiceId, _, accessId) = await Handover.SentInvoiceAsync(secretary, $"Boucle Caisse {i}");
            invoices.Add((invoiceId, accessId));
        }

        // Page channel (cookie): the password is printed and the render audited with who, patient, invoice, channel.
        var (first, firstAccess) = invoices[0];
        var (_, password) = await factory.Data.CredentialsAsync(firstAccess);
        Assert.Contains(password, await Handover.PdfTextAsync(await cookie.GetAsync($"/Billing/Details/{first}?handler=Pdf")));
        var number = await factory.WithDbAsync(db => db.Invoices.Where(x => x.Id == first).Select(x => x.Number).SingleAsync());
        var pageAudit = Assert.Single(await Handover.RevealsAsync(factory, firstAccess));
        Assert.Contains(accountantEmail, pageAudit.UserName);
        Assert.Contains("canal page", pageAudit.Detail);
        Assert.Contains(number, pageAudit.Detail);
        Assert.DoesNotContain(password, pageAudit.Detail);

        // API channel (Bearer token of an accountant, who has the permission by default): same, audited as api.
        Assert.Contains(password, await Handover.PdfTextAsync(await bearer.GetAsync($"/api/invoices/{first}/pdf/")));
        var apiAudit = (await Handover.RevealsAsync(factory, firstAccess))[1];
        Assert.Contains("canal api", apiAudit.Detail);
        Assert.StartsWith("api-", apiAudit.UserName);

        // The loop: 20 renders by the token's account in the hour raise nothing; the 21st crosses Alerts:RevealsPerHour.
        for (var i = 1; i < 20; i++)
        {
            var (invoiceId, _) = invoices[i % invoices.Count];
            Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync($"/api/invoices/{invoiceId}/pdf/")).StatusCode);
        }
        var apiUser = apiAudit.UserName;
        Assert.Equal(20, await factory.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Action == "access.reveal" && a.UserName == apiUser)));
        Assert.Empty(await EvaluateAsync());
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync($"/api/invoices/{invoices[1].InvoiceId}/pdf/")).StatusCode);
        var alert = Assert.Single(await EvaluateAsync(), a => a.Kind == "credential_reveals");
        Assert.Equal(AlertLevel.Critical, alert.Level);
        Assert.Contains(apiUser, alert.Subject);
        Assert.Contains("21 identifiants", alert.Detail);
        // The cookie account (1 reveal) raised nothing.
        Assert.Equal(0, await factory.WithDbAsync(db => db.Alerts.CountAsync(a => a.Subject.Contains(accountantEmail))));
    }

    [Fact]
    public async Task The_access_page_reveal_and_the_access_api_are_audited_with_their_channel()
    {
        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        var (_, patientId, accessId) = await Handover.SentInvoiceAsync(secretary, "Canal Accès");
        var (_, password) = await factory.Data.CredentialsAsync(accessId);

        var page = await secretary.PostFormAsync($"/Access/Details/{accessId}?handler=Reveal", new(), tokenPage: $"/Access/Details/{accessId}");
        Assert.Contains(password, await page.HtmlAsync());
        var detail = await (await secretary.GetAsync($"/api/patients/access/{accessId}/")).JsonAsync();
        Assert.Equal(password, detail.GetProperty("password").GetString());
        var generated = await (await secretary.PostJsonAsync("/api/patients/access/generate/", new { patient_id = patientId })).JsonAsync();
        Assert.Equal(password, generated.GetProperty("password").GetString());

        var reveals = await Handover.RevealsAsync(factory, accessId);
        Assert.Equal(3, reveals.Count);
        Assert.Contains("canal page", reveals[0].Detail);
        Assert.All(reveals.Skip(1), r => Assert.Contains("canal api", r.Detail));
        Assert.DoesNotContain(await factory.WithDbAsync(db => db.AuditEntries.Select(a => a.Detail ?? "").ToListAsync()), d => d.Contains(password));
    }

    private async Task<IReadOnlyList<Alert>> EvaluateAsync()
    {
        IReadOnlyList<Alert> raised = [];
        await factory.WithScopeAsync(async sp => raised = await sp.GetRequiredService<AlertRules>().EvaluateAsync(factory.Time.GetUtcNow().UtcDateTime));
        return raised;
    }
}

/// <summary>Access:CredentialRoles without Accountant: the cash desk's PDFs carry the key only, nothing is revealed or audited.</summary>
public class CredentialRolesWithoutAccountantTests : IClassFixture<CredentialRolesWithoutAccountantTests.Factory>
{
    public sealed class Factory : CimefFactory
    {
        public Factory()
        {
            Settings["Access:CredentialRoles:0"] = "Admin";
            Settings["Access:CredentialRoles:1"] = "Secretary";
        }
    }

    private readonly Factory _factory;

    public CredentialRolesWithoutAccountantTests(Factory factory) => _factory = factory;

    [Fact]
    public async Task An_accountant_cookie_or_bearer_loop_over_invoice_pdfs_yields_keys_but_no_password_and_no_reveal()
    {
        var secretary = await _factory.StaffClientAsync(Roles.Secretary);
        var accountant = await _factory.StaffClientAsync(Roles.Accountant);
        var bearer = await _factory.Data.ApiClientAsync(Roles.Accountant);
        var patients = new List<(int InvoiceId, int AccessId)>();
        for (var i = 0; i < 3; i++)
        {
            var (invoiceId, _, accessId) = await Handover.SentInvoiceAsync(secretary, $"Sans Permission {i}");
            patients.Add((invoiceId, accessId));
        }

        foreach (var (invoiceId, accessId) in patients)
        {
            var (key, password) = await _factory.Data.CredentialsAsync(accessId);
            foreach (var text in new[]
                     {
                         await Handover.PdfTextAsync(await accountant.GetAsync($"/Billing/Details/{invoiceId}?handler=Pdf")),
                         await Handover.PdfTextAsync(await bearer.GetAsync($"/api/invoices/{invoiceId}/pdf/")),
                     })
            {
                Assert.Contains(CredentialGenerator.FormatKey(key), text);
                Assert.Contains("Mot de passe : " + InvoicePdf.PasswordWithheld, text);
                Assert.DoesNotContain(password, text);
            }
            Assert.Empty(await Handover.RevealsAsync(_factory, accessId));

            // The secretary keeps the permission: her render carries the password and is audited.
            Assert.Contains(password, await Handover.PdfTextAsync(await secretary.GetAsync($"/api/invoices/{invoiceId}/pdf/")));
            Assert.Single(await Handover.RevealsAsync(_factory, accessId));
        }
    }

    [Fact]
    public async Task A_role_with_access_management_but_not_the_permission_gets_no_password_from_page_or_api()
    {
        using var factory = new RestrictedFactory();
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        var (_, patientId, accessId) = await Handover.SentInvoiceAsync(secretary, "Secrétaire Sans Mot");
        var (_, password) = await factory.Data.CredentialsAsync(accessId);

        var detail = await secretary.GetAsync($"/api/patients/access/{accessId}/");
        Assert.Equal(HttpStatusCode.OK, detail.StatusCode);
        var json = await detail.JsonAsync();
        Assert.False(json.GetProperty("access_key").GetString() is null);
        Assert.False(json.TryGetProperty("password", out _));
        var generated = await (await secretary.PostJsonAsync("/api/patients/access/generate/", new { patient_id = patientId })).JsonAsync();
        Assert.False(generated.TryGetProperty("password", out _));
        var page = await secretary.GetAsync($"/Access/Details/{accessId}");
        Assert.DoesNotContain("handler=Reveal", await page.HtmlAsync());
        var reveal = await secretary.PostFormAsync($"/Access/Details/{accessId}?handler=Reveal", new(), tokenPage: $"/Access/Details/{accessId}");
        Assert.NotEqual(HttpStatusCode.OK, reveal.StatusCode);
        Assert.DoesNotContain(password, await reveal.Content.ReadAsStringAsync());
        Assert.Empty(await Handover.RevealsAsync(factory, accessId));

        // Admin is in the list: the same endpoint answers the password, audited.
        Assert.Equal(password, (await (await admin.GetAsync($"/api/patients/access/{accessId}/")).JsonAsync()).GetProperty("password").GetString());
        Assert.Single(await Handover.RevealsAsync(factory, accessId));
    }

    /// <summary>Only Admin may hand over credentials.</summary>
    private sealed class RestrictedFactory : CimefFactory
    {
        public RestrictedFactory() => Settings["Access:CredentialRoles:0"] = "Admin";
    }
}
