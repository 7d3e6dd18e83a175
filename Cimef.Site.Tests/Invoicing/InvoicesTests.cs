using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Invoicing;

public class InvoicesTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Fact]
    public async Task Secretary_opens_a_draft_edits_lines_with_htmx_and_sends_it_which_creates_the_access()
    {
        var client = await factory.StaffClientAsync(Roles.Secretary);
        var patientId = await client.CreatePatientAsync("Aïssatou Ba", email: "aissatou@example.sn");

        var created = await client.PostFormAsync($"/Billing/Create?patientId={patientId}", new() { ["Input.ExamCode"] = "", ["Input.Quantity"] = "1" }, tokenPage: $"/Billing/Create?patientId={patientId}");
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var url = created.Headers.Location!.OriginalString;
        var id = int.Parse(url.Split('/').Last());

        var empty = await client.PostFormAsync($"/Billing/Details/{id}?handler=Send", new(), tokenPage: url);
        Assert.Equal(HttpStatusCode.Redirect, empty.StatusCode);
        Assert.Contains("Une facture sans ligne ne peut pas être émise.", await (await client.GetAsync(url)).HtmlAsync());
        Assert.Equal(InvoiceStatus.Draft, await factory.WithDbAsync(db => db.Invoices.Where(i => i.Id == id).Select(i => i.Status).SingleAsync()));

        var added = await client.PostFormAsync($"/Billing/Details/{id}?handler=AddLine", new() { ["Line.ExamCode"] = "ECHO-ABD", ["Line.Quantity"] = "2" }, tokenPage: url, htmx: true);
        var fragment = await added.HtmlAsync();
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        Assert.DoesNotContain("<html", fragment);
        Assert.Contains("50 000 FCFA", fragment);
        await client.PostFormAsync($"/Billing/Details/{id}?handler=AddLine", new() { ["Line.ExamCode"] = "RX-THO", ["Line.Quantity"] = "1" }, tokenPage: url, htmx: true);
        Assert.Equal(65000, await factory.WithDbAsync(db => db.Invoices.Where(i => i.Id == id).Select(i => i.Total).SingleAsync()));

        var badQty = await client.PostFormAsync($"/Billing/Details/{id}?handler=AddLine", new() { ["Line.ExamCode"] = "RX-THO", ["Line.Quantity"] = "0" }, tokenPage: url, htmx: true);
        Assert.Contains("La quantité doit être comprise entre 1 et 100.", await badQty.HtmlAsync());
        var unknown = await client.PostFormAsync($"/Billing/Details/{id}?handler=AddLine", new() { ["Line.ExamCode"] = "NOPE", ["Line.Quantity"] = "1" }, tokenPage: url, htmx: true);
        Assert.Contains("Examen inconnu", await unknown.HtmlAsync());

        var lineId = await factory.WithDbAsync(db => db.InvoiceLines.Where(l => l.InvoiceId == id && l.Description.StartsWith("Radio")).Select(l => l.Id).SingleAsync());
        var removed = await client.PostFormAsync($"/Billing/Details/{id}?handler=RemoveLine&lineId={lineId}", new(), tokenPage: url);
        Assert.Equal(HttpStatusCode.Redirect, removed.StatusCode);
        Assert.Equal(50000, await factory.WithDbAsync(db => db.Invoices.Where(i => i.Id == id).Select(i => i.Total).SingleAsync()));

        var sent = await client.PostFormAsync($"/Billing/Details/{id}?handler=Send", new(), tokenPage: url);
        Assert.Equal(HttpStatusCode.Redirect, sent.StatusCode);
        var invoice = await factory.WithDbAsync(db => db.Invoices.Include(i => i.PatientAccess).SingleAsync(i => i.Id == id));
        Assert.Equal(InvoiceStatus.Sent, invoice.Status);
        Assert.NotNull(invoice.PatientAccess);
        var outbox = await factory.WithDbAsync(db => db.OutboxMessages.Where(o => o.PatientId == patientId && o.Kind == OutboxKind.Credentials).ToListAsync());
        Assert.Contains(outbox, o => o.Channel == OutboxChannel.Email && o.Recipient == "aissatou@example.sn");
        Assert.Contains(outbox, o => o.Channel == OutboxChannel.Sms);
        foreach (var action in new[] { "invoice.create", "invoice.line.add", "invoice.line.remove", "invoice.send", "access.create" })
            Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == action)), action);

        // A sent invoice's lines can no longer change.
        var late = await client.PostFormAsync($"/Billing/Details/{id}?handler=AddLine", new() { ["Line.ExamCode"] = "RX-THO", ["Line.Quantity"] = "1" }, tokenPage: url, htmx: true);
        Assert.Contains("Seule une facture en brouillon peut être modifiée.", await late.HtmlAsync());
    }

    [Fact]
    public async Task Parallel_creations_get_distinct_consecutive_numbers()
    {
        var client = await factory.StaffClientAsync(Roles.Admin);
        var patientId = await client.CreatePatientAsync("Parallèle");
        var tasks = Enumerable.Range(0, 24).Select(async _ =>
        {
            var c = await factory.StaffClientAsync(Roles.Secretary);
            var r = await c.PostJsonAsync("/api/invoices/", new { patient_id = patientId, lines = new[] { new { exam_code = "RX-THO", quantity = 1 } } });
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            return (await r.JsonAsync()).GetProperty("invoice_number").GetString()!;
        });
        var numbers = await Task.WhenAll(tasks);
        Assert.Equal(numbers.Length, numbers.Distinct().Count());
        var sequence = numbers.Select(n => int.Parse(n.Split('-')[2])).Order().ToList();
        Assert.All(numbers, n => Assert.StartsWith("FAC-2026-", n));
        Assert.Equal(Enumerable.Range(sequence[0], sequence.Count), sequence);
    }

    [Fact]
    public async Task Cancel_needs_a_reason_and_a_paid_invoice_needs_its_payments_reversed_first()
    {
        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        var accountant = await factory.StaffClientAsync(Roles.Accountant);
        var patientId = await secretary.CreatePatientAsync("Annulation");
        var id = (await secretary.CreateInvoiceAsync(patientId, ("RX-THO", 1))).GetProperty("id").GetInt32();
        var url = $"/Billing/Details/{id}";

        await secretary.PostFormAsync($"{url}?handler=Cancel", new() { ["reason"] = " " }, tokenPage: url);
        Assert.Contains("Indiquez le motif de l'annulation.", await (await secretary.GetAsync(url)).HtmlAsync());

        var pay = await accountant.PostJsonAsync($"/api/invoices/{id}/payments/", new { amount = 15000, method = "wave" });
        Assert.Equal(HttpStatusCode.Created, pay.StatusCode);
        await secretary.PostFormAsync($"{url}?handler=Cancel", new() { ["reason"] = "Erreur de patient" }, tokenPage: url);
        Assert.Contains("annulez d'abord ses paiements", await (await secretary.GetAsync(url)).HtmlAsync());
        Assert.Equal(InvoiceStatus.Paid, await factory.WithDbAsync(db => db.Invoices.Where(i => i.Id == id).Select(i => i.Status).SingleAsync()));

        var paymentId = (await pay.JsonAsync()).GetProperty("payment_id").GetInt32();
        Assert.Equal(HttpStatusCode.Redirect, (await secretary.PostFormAsync($"/Billing/Reverse/{paymentId}", new() { ["reason"] = "x" }, tokenPage: url)).StatusCode);
        Assert.Null(await factory.WithDbAsync(db => db.Payments.Where(p => p.Id == paymentId).Select(p => p.ReversedAt).SingleAsync()));
        var reversed = await accountant.PostFormAsync($"/Billing/Reverse/{paymentId}", new() { ["reason"] = "Erreur de caisse" }, tokenPage: url);
        Assert.Equal(HttpStatusCode.Redirect, reversed.StatusCode);
        Assert.Equal(InvoiceStatus.Sent, await factory.WithDbAsync(db => db.Invoices.Where(i => i.Id == id).Select(i => i.Status).SingleAsync()));

        var cancelled = await secretary.PostFormAsync($"{url}?handler=Cancel", new() { ["reason"] = "Erreur de patient" }, tokenPage: url);
        Assert.Equal(HttpStatusCode.Redirect, cancelled.StatusCode);
        var inv = await factory.WithDbAsync(db => db.Invoices.SingleAsync(i => i.Id == id));
        Assert.Equal(InvoiceStatus.Cancelled, inv.Status);
        Assert.Equal("Erreur de patient", inv.CancelReason);
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "payment.reverse")));
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "invoice.cancel")));
    }

    [Fact]
    public async Task Doctor_is_refused_on_billing_and_unknown_invoices_are_404()
    {
        var doctor = await factory.StaffClientAsync(Roles.Doctor);
        var r = await doctor.GetAsync("/Billing");
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.StartsWith("/Account/Denied", r.Headers.Location!.PathAndQuery);
        Assert.Equal(HttpStatusCode.Forbidden, (await doctor.PostJsonAsync("/api/invoices/", new { patient_id = 1 })).StatusCode);

        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        Assert.Equal(HttpStatusCode.NotFound, (await secretary.GetAsync("/Billing/Details/999999")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await secretary.GetAsync("/Billing/Create?patientId=999999")).StatusCode);
        var list = await secretary.HtmxGetAsync("/Billing?status=Draft");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.DoesNotContain("<html", await list.HtmlAsync());
    }
}
