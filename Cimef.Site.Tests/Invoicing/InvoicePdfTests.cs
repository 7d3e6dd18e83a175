using System.Net;
using Cimef.Site.Access;
using Cimef.Site.Data.Entities;
using Cimef.Site.Pdf;
using Cimef.Site.Tests.Infrastructure;
using UglyToad.PdfPig;

namespace Cimef.Site.Tests.Invoicing;

public class InvoicePdfTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Fact]
    public async Task The_printed_invoice_carries_the_key_the_password_the_portal_url_and_a_qr_code()
    {
        factory.Settings["Portal:Url"] = "https://resultats.cimef.sn/patient";
        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        var patientId = await secretary.CreatePatientAsync("Ndèye Fatou Diagne");
        var id = (await secretary.CreateInvoiceAsync(patientId, ("MAMMO", 1), ("ECHO-SEIN", 1))).GetProperty("id").GetInt32();

        var draft = await secretary.GetAsync($"/Billing/Details/{id}?handler=Pdf");
        Assert.Equal(HttpStatusCode.OK, draft.StatusCode);
        using (var d = PdfDocument.Open(await draft.Content.ReadAsByteArrayAsync()))
            Assert.DoesNotContain("Vos résultats en ligne", d.GetPage(1).Text);

        var sent = await secretary.SendInvoiceAsync(id);
        var (key, password) = await factory.Data.CredentialsAsync(sent.GetProperty("patient_access_id").GetInt32());

        var r = await secretary.GetAsync($"/api/invoices/{id}/pdf/");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("application/pdf", r.Content.Headers.ContentType!.MediaType);
        var bytes = await r.Content.ReadAsByteArrayAsync();
        Assert.True(bytes.Length < 60 * 1024, $"PDF is {bytes.Length} bytes");
        using var pdf = PdfDocument.Open(bytes);
        var page = pdf.GetPage(1);
        var text = string.Join(" ", page.GetWords().Select(w => w.Text));
        Assert.Contains(CredentialGenerator.FormatKey(key), text);
        Assert.Contains(password, text);
        Assert.Contains("https://resultats.cimef.sn/patient", text);
        Assert.Contains("permanents", text);
        Assert.Contains("résultats", page.Text);
        Assert.Contains("70 000", text); // 40 000 + 30 000 FCFA
        Assert.Single(page.GetImages());

        var payload = InvoicePdf.QrPayload("https://resultats.cimef.sn/patient", key);
        Assert.Equal($"https://resultats.cimef.sn/patient?key={key}", payload);
        Assert.DoesNotContain(password, payload);

        var page2 = await secretary.GetAsync($"/Billing/Details/{id}?handler=Pdf");
        Assert.Equal("no-store", page2.Headers.CacheControl!.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await secretary.GetAsync("/api/invoices/999999/pdf/")).StatusCode);
    }
}

public class InvoicePdfLayoutTests
{
    [Fact]
    public void A_long_invoice_flows_onto_a_second_page_and_keeps_the_whole_access_box()
    {
        var invoice = new Invoice { Number = "FAC-2026-000001", Status = InvoiceStatus.Sent, CreatedAt = CimefFactory.Start.UtcDateTime };
        for (var i = 0; i < 50; i++) invoice.Lines.Add(new InvoiceLine { Description = $"Examen {i}", Quantity = 1, UnitPrice = 1000, Total = 1000 });
        invoice.Total = 50000;
        var model = new InvoicePdf.Model(new ClinicOptions(), "https://resultats.cimef.sn/patient", invoice,
            new Patient { FullName = "Long", Phone = "+221771234567" }, new InvoicePdf.Credentials("ABCDEFGHJKMN", "abcd2345"));
        using var pdf = PdfDocument.Open(InvoicePdf.Render(model));
        Assert.True(pdf.NumberOfPages >= 2);
        var all = string.Join(" ", pdf.GetPages().SelectMany(p => p.GetWords()).Select(w => w.Text));
        Assert.Contains("Examen 49", all);
        Assert.Contains("ABCD-EFGH-JKMN", all);
        Assert.Contains("abcd2345", all);
    }
}
