using Cimef.Site.Data;
using Cimef.Site.Invoicing;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.Billing;

/// <summary>Cash desk: reverse a payment with a reason (the row stays for the history; a paid invoice goes back to sent).</summary>
[Authorize(Policy = Policies.Payments)]
public class ReverseModel(CimefDb db, InvoiceWorkflow workflow) : StaffPage
{
    public IActionResult OnGet() => Redirect("/Billing");

    public async Task<IActionResult> OnPostAsync(int id, string? reason)
    {
        var result = await workflow.ReversePaymentAsync(id, reason, User);
        if (result.Outcome == Outcome.NotFound) return NotFound();
        // A missing reason is refused before the payment is looked up: an unknown id must still be a 404, not a 500.
        var invoiceId = result.Invoice?.Id ?? await db.Payments.Where(p => p.Id == id).Select(p => (int?)p.InvoiceId).SingleOrDefaultAsync();
        if (invoiceId is null) return NotFound();
        return Done(result.Ok ? "Paiement annulé." : "Erreur : " + result.Error, "/Billing/Details", new { id = invoiceId });
    }
}
