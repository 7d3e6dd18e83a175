using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Invoicing;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.FrontDesk;

public class PatientsTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    private static Dictionary<string, string> Form(string name, string phone, string? email = null, string? dob = null, bool confirm = false)
    {
        var f = new Dictionary<string, string> { ["Input.FullName"] = name, ["Input.Phone"] = phone, ["Input.Email"] = email ?? "", ["Input.DateOfBirth"] = dob ?? "" };
        if (confirm) f["Input.ConfirmDuplicate"] = "true";
        return f;
    }

    [Fact]
    public async Task Secretary_creates_a_patient_with_a_normalised_phone_and_an_audit_line()
    {
        var client = await factory.StaffClientAsync(Roles.Secretary);
        var r = await client.PostFormAsync("/Patients/Create", Form("Mariama  Cissé", "77 123 45 67", "mariama@example.sn", "1985-03-14"));
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.StartsWith("/Patients/Details/", r.Headers.Location!.OriginalString);
        var p = await factory.WithDbAsync(db => db.Patients.SingleAsync(x => x.Phone == "+221771234567"));
        Assert.Equal("Mariama Cissé", p.FullName);
        Assert.Equal("mariama cisse", p.SearchName);
        Assert.Equal(new DateOnly(1985, 3, 14), p.DateOfBirth);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "patient.create" && a.EntityId == p.Id.ToString())));

        var details = await client.GetAsync(r.Headers.Location!.OriginalString);
        var html = await details.HtmlAsync();
        Assert.Contains($"hx-get=\"/Patients/History/{p.Id}\" hx-trigger=\"load\"", html);
        Assert.Contains($"<a href=\"/Patients/History/{p.Id}\">Historique des connexions et téléchargements</a>", html);
        Assert.Contains($"hx-get=\"/Patients/Notifications/{p.Id}\" hx-trigger=\"load\"", html);
        Assert.Contains($"<a href=\"/Patients/Notifications/{p.Id}\">Notifications envoyées</a>", html);
    }

    [Fact]
    public async Task Bad_input_is_refused_with_french_messages_and_nothing_saved()
    {
        var client = await factory.StaffClientAsync(Roles.Secretary);
        var before = await factory.WithDbAsync(db => db.Patients.CountAsync());
        var r = await client.PostFormAsync("/Patients/Create", Form("", "12ab", "pas-un-email"));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var html = await r.HtmlAsync();
        Assert.Contains("Le nom est obligatoire.", html);
        Assert.Contains("Numéro de téléphone invalide", html);
        Assert.Contains("L'adresse e-mail n'est pas valide.", html);
        Assert.Equal(before, await factory.WithDbAsync(db => db.Patients.CountAsync()));
    }

    [Fact]
    public async Task The_language_of_the_patients_messages_is_chosen_by_staff_and_an_unknown_one_is_refused()
    {
        var client = await factory.StaffClientAsync(Roles.Secretary);
        var phone = BillingClient.NewPhone();
        var form = Form("Khady Fall", phone);
        form["Input.Language"] = "wo";
        Assert.Equal(HttpStatusCode.Redirect, (await client.PostFormAsync("/Patients/Create", form)).StatusCode);
        var p = await factory.WithDbAsync(db => db.Patients.SingleAsync(x => x.FullName == "Khady Fall"));
        Assert.Equal("wo", p.Language);

        var edit = await client.GetAsync($"/Patients/Edit/{p.Id}");
        Assert.Contains("<option value=\"wo\" selected=\"selected\">Wolof</option>", await edit.HtmlAsync());

        var bad = Form("Khady Fall", phone);
        bad["Input.Language"] = "klingon";
        var refused = await client.PostFormAsync($"/Patients/Edit/{p.Id}", bad);
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("Langue inconnue : choisissez Français, Wolof ou English.", await refused.HtmlAsync());
        Assert.Equal("wo", (await factory.WithDbAsync(db => db.Patients.AsNoTracking().SingleAsync(x => x.Id == p.Id))).Language);

        var english = Form("Khady Fall", phone);
        english["Input.Language"] = "en";
        Assert.Equal(HttpStatusCode.Redirect, (await client.PostFormAsync($"/Patients/Edit/{p.Id}", english)).StatusCode);
        Assert.Equal("en", (await factory.WithDbAsync(db => db.Patients.AsNoTracking().SingleAsync(x => x.Id == p.Id))).Language);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "patient.update" && a.EntityId == p.Id.ToString()
            && a.Detail!.Contains("langue des messages"))));
    }

    [Fact]
    public async Task A_duplicate_is_warned_before_saving_and_saved_only_when_confirmed()
    {
        var client = await factory.StaffClientAsync(Roles.Secretary);
        var phone = BillingClient.NewPhone();
        Assert.Equal(HttpStatusCode.Redirect, (await client.PostFormAsync("/Patients/Create", Form("Ousmane Sow", phone))).StatusCode);

        var warned = await client.PostFormAsync("/Patients/Create", Form("Ousmane Sow bis", "+221" + phone), htmx: true);
        Assert.Equal(HttpStatusCode.OK, warned.StatusCode);
        var html = await warned.HtmlAsync();
        Assert.Contains("ce patient existe peut-être déjà", html);
        Assert.Contains("même numéro de téléphone", html);
        Assert.DoesNotContain("<html", html);
        Assert.Equal(1, await factory.WithDbAsync(db => db.Patients.CountAsync(p => p.Phone == "+221" + phone)));

        var confirmed = await client.PostFormAsync("/Patients/Create", Form("Ousmane Sow bis", phone, confirm: true));
        Assert.Equal(HttpStatusCode.Redirect, confirmed.StatusCode);
        Assert.Equal(2, await factory.WithDbAsync(db => db.Patients.CountAsync(p => p.Phone == "+221" + phone)));
    }

    [Fact]
    public async Task Same_name_and_birth_date_is_a_duplicate_too()
    {
        var client = await factory.StaffClientAsync(Roles.Admin);
        await client.PostFormAsync("/Patients/Create", Form("Fatou Ndiaye", BillingClient.NewPhone(), dob: "1990-01-02"));
        var warned = await client.PostFormAsync("/Patients/Create", Form("fatou ndiaye", BillingClient.NewPhone(), dob: "1990-01-02"));
        Assert.Contains("même nom et même date de naissance", await warned.HtmlAsync());
    }

    [Fact]
    public async Task Edit_changes_the_patient_and_is_audited()
    {
        var client = await factory.StaffClientAsync(Roles.Secretary);
        var id = await client.CreatePatientAsync("Modou Fall");
        var r = await client.PostFormAsync($"/Patients/Edit/{id}", Form("Modou Fall", "76 555 44 33", "modou@example.sn"));
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        var p = await factory.WithDbAsync(db => db.Patients.SingleAsync(x => x.Id == id));
        Assert.Equal("+221765554433", p.Phone);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "patient.update" && a.EntityId == id.ToString() && a.Detail!.Contains("téléphone"))));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/Patients/Edit/999999")).StatusCode);
    }

    [Fact]
    public async Task Search_finds_by_name_phone_key_and_invoice_number_and_answers_htmx_with_a_fragment()
    {
        var client = await factory.StaffClientAsync(Roles.Admin);
        var phone = "70" + Random.Shared.Next(1000000, 9999999);
        var id = await client.CreatePatientAsync("Khady Sène Recherche", phone);
        var invoice = await client.CreateInvoiceAsync(id, ("RX-THO", 1));
        await client.SendInvoiceAsync(invoice.GetProperty("id").GetInt32());
        var key = await factory.WithDbAsync(db => db.PatientAccesses.Where(a => a.PatientId == id).Select(a => a.AccessKey).SingleAsync());

        foreach (var q in new[] { "sene rech", "KHADY", phone[..5], "+221" + phone, invoice.GetProperty("invoice_number").GetString()!, key[..4] + "-" + key[4..8].ToLowerInvariant(), key })
        {
            var r = await client.HtmxGetAsync("/Patients?q=" + Uri.EscapeDataString(q));
            var html = await r.HtmlAsync();
            Assert.True(html.Contains($"/Patients/Details/{id}"), $"not found by « {q} »");
            Assert.DoesNotContain("<html", html);
        }
        var full = await client.GetAsync("/Patients?q=zzzzqqq");
        Assert.Contains("Aucun patient ne correspond", await full.HtmlAsync());
    }

    [Theory]
    [InlineData(Roles.Doctor)]
    [InlineData(Roles.Accountant)]
    public async Task Doctor_and_accountant_are_refused_on_patient_pages_and_api(string role)
    {
        var client = await factory.StaffClientAsync(role);
        var page = await client.GetAsync("/Patients");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/Account/Denied", page.Headers.Location!.PathAndQuery);
        var api = await client.PostJsonAsync("/api/patients/", new { full_name = "X", phone = "771234567" });
        Assert.Equal(HttpStatusCode.Forbidden, api.StatusCode);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "authz.forbidden" && a.Detail == "POST /api/patients/")));
    }
}
