using Cimef.Site.Invoicing;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Pages.Billing;

/// <summary>Cash desk: reverse a payment with a reason (the row stays for the history; a paid invoice goes back to sent).</summary>
[Authorize(Policy = Policies.Payments)]
public class ReverseModel(InvoiceWorkflow workflow) : PageModel
{
    public IActionResult OnGet() => Redirect("/Billing");

    public async Task<IActionResult> OnPostAsync(int id, string? reason)
    {
        var result = await workflow.ReversePaymentAsync(id, reason, User);
        if (result.Outcome == Outcome.NotFound) return NotFound();
        TempData["StatusMessage"] = result.Ok ? "Paiement annulé." : "Erreur : " + result.Error;
        return this.RedirectOrHx(result.Invoice is null ? "/Billing" : $"/Billing/Details/{result.Invoice.Id}");
    }
}
