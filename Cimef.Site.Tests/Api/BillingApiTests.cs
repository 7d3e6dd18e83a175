using System.Net;
using System.Text;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Invoicing;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Api;

public class BillingApiTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Fact]
    public async Task The_whole_flow_through_the_api_with_bearer_tokens()
    {
        var front = await factory.Data.ApiClientAsync(Roles.Secretary);
        var cash = await factory.Data.ApiClientAsync(Roles.Accountant);

        var created = await front.PostJsonAsync("/api/patients/", new { full_name = "Cheikh Mbaye", phone = "78 000 11 22", email = "cheikh@example.sn", date_of_birth = "1970-05-06" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var p = await created.JsonAsync();
        Assert.Equal("+221780001122", p.GetProperty("phone").GetString());
        Assert.Equal("1970-05-06", p.GetProperty("date_of_birth").GetString());
        var patientId = p.GetProperty("id").GetInt32();

        var search = await (await front.GetAsync("/api/patients/?q=cheikh")).JsonAsync();
        Assert.Contains(search.GetProperty("results").EnumerateArray(), e => e.GetProperty("id").GetInt32() == patientId && e.GetProperty("full_name").GetString() == "Cheikh Mbaye");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, search.GetProperty("next").ValueKind);

        var exams = await (await front.GetAsync("/api/exams/")).JsonAsync();
        var first = exams.EnumerateArray().First();
        Assert.True(first.TryGetProperty("code", out _) && first.TryGetProperty("name", out _) && first.TryGetProperty("modality", out _) && first.TryGetProperty("price", out _));

        var inv = await front.CreateInvoiceAsync(patientId, ("IRM-GEN", 1), ("RX-GEN", 2));
        Assert.Equal("draft", inv.GetProperty("status").GetString());
        Assert.Equal(170000, inv.GetProperty("total").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, inv.GetProperty("patient_access_id").ValueKind);
        var id = inv.GetProperty("id").GetInt32();

        var pay = await cash.PostJsonAsync($"/api/invoices/{id}/payments/", new { amount = 170000, method = "orange_money" });
        Assert.Equal(HttpStatusCode.Created, pay.StatusCode);
        var pj = await pay.JsonAsync();
        Assert.True(pj.GetProperty("payment_id").GetInt32() > 0);
        var pi = pj.GetProperty("invoice");
        Assert.Equal("paid", pi.GetProperty("status").GetString());
        Assert.Equal(170000, pi.GetProperty("paid").GetInt32());
        var accessId = pi.GetProperty("patient_access_id").GetInt32();

        var send = await front.PostAsync($"/api/invoices/{id}/send/", null);
        Assert.Equal(HttpStatusCode.Conflict, send.StatusCode);
        Assert.Contains("brouillon", (await send.JsonAsync()).GetProperty("error").GetString());

        var over = await cash.PostJsonAsync($"/api/invoices/{id}/payments/", new { amount = 1, method = "cash" });
        Assert.Equal(HttpStatusCode.Conflict, over.StatusCode);

        var list = await (await front.GetAsync("/api/patients/access/?q=cheikh&status=active")).JsonAsync();
        var row = Assert.Single(list.GetProperty("results").EnumerateArray());
        Assert.False(row.TryGetProperty("password", out _));

        var one = await (await front.GetAsync($"/api/patients/access/{accessId}/")).JsonAsync();
        Assert.Equal(12, one.GetProperty("access_key").GetString()!.Length);
        Assert.Equal(8, one.GetProperty("password").GetString()!.Length);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "access.reveal" && a.EntityId == accessId.ToString())));

        var gen = await front.PostJsonAsync("/api/patients/access/generate/", new { patient_id = patientId });
        Assert.Equal(HttpStatusCode.OK, gen.StatusCode);
        var g = await gen.JsonAsync();
        Assert.Equal(accessId, g.GetProperty("id").GetInt32());
        Assert.False(g.GetProperty("created").GetBoolean());
        Assert.Equal(one.GetProperty("password").GetString(), g.GetProperty("password").GetString());

        var regen = await front.PutJsonAsync($"/api/patients/access/{accessId}/", new { regenerate = true });
        Assert.Equal(HttpStatusCode.OK, regen.StatusCode);
        Assert.NotEqual(one.GetProperty("access_key").GetString(), (await regen.JsonAsync()).GetProperty("access_key").GetString());

        var off = await front.PutJsonAsync($"/api/patients/access/{accessId}/", new { is_active = false });
        Assert.False((await off.JsonAsync()).GetProperty("is_active").GetBoolean());
    }

    [Fact]
    public async Task Generate_creates_an_access_for_a_new_patient_and_queues_the_credentials()
    {
        var front = await factory.StaffClientAsync(Roles.Secretary);
        var patientId = await front.CreatePatientAsync("Génération Directe", email: "gen@example.sn");
        var r = await front.PostJsonAsync("/api/patients/access/generate/", new { patient_id = patientId });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        var j = await r.JsonAsync();
        Assert.True(j.GetProperty("created").GetBoolean());
        Assert.True(j.GetProperty("is_active").GetBoolean());
        Assert.Equal(2, await factory.WithDbAsync(db => db.OutboxMessages.CountAsync(o => o.PatientId == patientId && o.Kind == OutboxKind.Credentials)));
        Assert.Equal(HttpStatusCode.NotFound, (await front.PostJsonAsync("/api/patients/access/generate/", new { patient_id = 999999 })).StatusCode);
    }

    [Fact]
    public async Task Bad_input_gets_400_with_french_messages_unknown_ids_404_and_wrong_roles_403()
    {
        var front = await factory.StaffClientAsync(Roles.Secretary);
        var malformed = await front.PostAsync("/api/patients/", new StringContent("{\"full_name\": ", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("JSON invalide", (await malformed.JsonAsync()).GetProperty("error").GetString());

        // A cookie caller's form post is what a cross-site page can send: refused before the endpoint runs (CSRF).
        var notJson = await front.PostAsync("/api/patients/", new StringContent("full_name=x", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, notJson.StatusCode);
        Assert.Contains("application/json", (await notJson.JsonAsync()).GetProperty("error").GetString());

        var invalid = await front.PostJsonAsync("/api/patients/", new { full_name = "", phone = "123", email = "x@", date_of_birth = "06/05/1970" });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await invalid.JsonAsync()).GetProperty("errors");
        Assert.Equal("Le nom est obligatoire.", errors.GetProperty("full_name")[0].GetString());
        Assert.Contains("Numéro de téléphone invalide", errors.GetProperty("phone")[0].GetString());
        Assert.Equal("L'adresse e-mail n'est pas valide.", errors.GetProperty("email")[0].GetString());
        Assert.Contains("AAAA-MM-JJ", errors.GetProperty("date_of_birth")[0].GetString());

        var patientId = await front.CreatePatientAsync("Erreurs Api");
        var qty = await front.PostJsonAsync("/api/invoices/", new { patient_id = patientId, lines = new[] { new { exam_code = "RX-THO", quantity = 0 } } });
        Assert.Equal(HttpStatusCode.BadRequest, qty.StatusCode);
        Assert.True((await qty.JsonAsync()).GetProperty("errors").TryGetProperty("lines", out _));
        var unknownExam = await front.PostJsonAsync("/api/invoices/", new { patient_id = patientId, lines = new[] { new { exam_code = "NOPE", quantity = 1 } } });
        Assert.Equal(HttpStatusCode.BadRequest, unknownExam.StatusCode);
        var wrongType = await front.PostAsync("/api/invoices/", new StringContent("{\"patient_id\": \"abc\", \"lines\": []}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await front.PostJsonAsync("/api/invoices/", new { patient_id = 999999, lines = new[] { new { exam_code = "RX-THO", quantity = 1 } } })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await front.PostJsonAsync("/api/invoices/999999/send/", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await front.GetAsync("/api/patients/access/999999/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await front.PutJsonAsync("/api/patients/access/999999/", new { is_active = true })).StatusCode);

        var accountant = await factory.StaffClientAsync(Roles.Accountant);
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var id = (await admin.CreateInvoiceAsync(patientId, ("RX-THO", 1))).GetProperty("id").GetInt32();
        var method = await accountant.PostJsonAsync($"/api/invoices/{id}/payments/", new { amount = 1000, method = "bitcoin" });
        Assert.Equal(HttpStatusCode.BadRequest, method.StatusCode);
        Assert.Contains("Mode de paiement inconnu", (await method.JsonAsync()).GetProperty("errors").GetProperty("method")[0].GetString());
        var over = await accountant.PostJsonAsync($"/api/invoices/{id}/payments/", new { amount = 20000, method = "cash" });
        Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
        Assert.Contains("dépasse le reste à payer", (await over.JsonAsync()).GetProperty("errors").GetProperty("amount")[0].GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await accountant.PostJsonAsync("/api/invoices/999999/payments/", new { amount = 1, method = "cash" })).StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, (await accountant.GetAsync("/api/patients/access/")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await accountant.GetAsync("/api/patients/?q=a")).StatusCode);
        var empty = await admin.CreateInvoiceAsync(patientId, ("RX-THO", 1));
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.NewClient().GetAsync($"/api/invoices/{empty.GetProperty("id").GetInt32()}/pdf/")).StatusCode);
    }
}
