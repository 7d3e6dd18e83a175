using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Invoicing;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using System.Security.Claims;

namespace Cimef.Site.Tests.Invoicing;

public class PaymentsTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Fact]
    public async Task Accountant_records_partial_then_full_payment_and_overpayment_is_refused()
    {
        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        var accountant = await factory.StaffClientAsync(Roles.Accountant);
        var patientId = await secretary.CreatePatientAsync("Paiement Partiel");
        var id = (await secretary.CreateInvoiceAsync(patientId, ("ECHO-ABD", 1))).GetProperty("id").GetInt32();
        await secretary.SendInvoiceAsync(id);
        var url = $"/Billing/Pay/{id}";

        var partial = await accountant.PostFormAsync(url, new() { ["Input.Amount"] = "10000", ["Input.Method"] = "Cash" });
        Assert.Equal(HttpStatusCode.Redirect, partial.StatusCode);
        Assert.Equal(InvoiceStatus.Sent, await Status(id));

        var over = await accountant.PostFormAsync(url, new() { ["Input.Amount"] = "20000", ["Input.Method"] = "Wave" });
        Assert.Equal(HttpStatusCode.OK, over.StatusCode);
        Assert.Contains("dépasse le reste à payer (15 000 FCFA)", await over.HtmlAsync());

        var letters = await accountant.PostFormAsync(url, new() { ["Input.Amount"] = "abc", ["Input.Method"] = "Wave" });
        Assert.Contains("n'est pas valide", await letters.HtmlAsync());

        var full = await accountant.PostFormAsync(url, new() { ["Input.Amount"] = "15000", ["Input.Method"] = "OrangeMoney" });
        Assert.Equal(HttpStatusCode.Redirect, full.StatusCode);
        Assert.Equal(InvoiceStatus.Paid, await Status(id));
        Assert.Equal(2, await factory.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Action == "payment.create" && a.EntityId == id.ToString())));

        var day = await accountant.GetAsync("/Billing/Payments?date=2026-11-25");
        var html = await day.HtmlAsync();
        Assert.Contains("Espèces", html);
        Assert.Contains("Orange Money", html);
        Assert.Contains("10 000 FCFA", html);
        var other = await accountant.HtmxGetAsync("/Billing/Payments?date=2026-11-20");
        Assert.Contains("Aucun paiement ce jour.", await other.HtmlAsync());
    }

    [Fact]
    public async Task Secretary_and_doctor_are_refused_on_payments()
    {
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var patientId = await admin.CreatePatientAsync("Refus Paiement");
        var id = (await admin.CreateInvoiceAsync(patientId, ("RX-THO", 1))).GetProperty("id").GetInt32();
        foreach (var role in new[] { Roles.Secretary, Roles.Doctor })
        {
            var c = await factory.StaffClientAsync(role);
            var page = await c.GetAsync($"/Billing/Pay/{id}");
            Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
            Assert.StartsWith("/Account/Denied", page.Headers.Location!.PathAndQuery);
            Assert.Equal(HttpStatusCode.Redirect, (await c.GetAsync("/Billing/Payments")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await c.PostJsonAsync($"/api/invoices/{id}/payments/", new { amount = 100, method = "cash" })).StatusCode);
        }
        Assert.Equal(0, await factory.WithDbAsync(db => db.Payments.CountAsync(p => p.InvoiceId == id)));
    }

    [Fact]
    public async Task Concurrent_payment_and_cancel_never_both_succeed()
    {
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var patientId = await admin.CreatePatientAsync("Course Paiement");
        var user = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "race@cimef.test")], "test"));
        for (var round = 0; round < 10; round++)
        {
            var id = (await admin.CreateInvoiceAsync(patientId, ("RX-THO", 1))).GetProperty("id").GetInt32();
            await admin.SendInvoiceAsync(id);
            var gate = new TaskCompletionSource();
            async Task<WorkflowResult> Run(Func<InvoiceWorkflow, Task<WorkflowResult>> op)
            {
                await using var scope = factory.Services.CreateAsyncScope();
                var wf = scope.ServiceProvider.GetRequiredService<InvoiceWorkflow>();
                await gate.Task;
                return await op(wf);
            }
            var pay = Task.Run(() => Run(wf => wf.PayAsync(id, 5000, PaymentMethod.Cash, user)));
            var cancel = Task.Run(() => Run(wf => wf.CancelAsync(id, "course", user)));
            gate.SetResult();
            var results = await Task.WhenAll(pay, cancel);
            Assert.False(results[0].Ok && results[1].Ok, $"round {round}: both succeeded");
            Assert.True(results[0].Ok || results[1].Ok, $"round {round}: neither succeeded");
            var inv = await factory.WithDbAsync(db => db.Invoices.Include(i => i.Payments).SingleAsync(i => i.Id == id));
            Assert.False(inv.Status == InvoiceStatus.Cancelled && inv.Payments.Count > 0);
        }
    }

    private Task<InvoiceStatus> Status(int id) => factory.WithDbAsync(db => db.Invoices.Where(i => i.Id == id).Select(i => i.Status).SingleAsync());
}
