using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Invoicing;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.Billing;

/// <summary>Cash desk: record a partial or full payment; the invoice becomes paid when covered, overpayment is refused.</summary>
[Authorize(Policy = Policies.Payments)]
public class PayModel(CimefDb db, InvoiceWorkflow workflow) : StaffPage
{
    public sealed class InputModel
    {
        public int Amount { get; set; }
        public PaymentMethod Method { get; set; } = PaymentMethod.Cash;
    }

    [FromRoute] public int Id { get; set; }
    [BindProperty] public InputModel Input { get; set; } = new();
    public Invoice Invoice { get; private set; } = null!;
    public int Due { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadAsync()) return NotFound();
        Input.Amount = Due;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!await LoadAsync()) return NotFound();
        if (!ModelState.IsValid) return Page();
        var result = await workflow.PayAsync(Id, Input.Amount, Input.Method, User);
        if (result.Outcome == Outcome.NotFound) return NotFound();
        if (!result.Ok)
        {
            ModelState.AddModelError("Input.Amount", result.Error!);
            return Page();
        }
        return Done(result.Invoice!.Status == InvoiceStatus.Paid
            ? $"Paiement de {Fr.Money(Input.Amount)} enregistré : facture {result.Invoice.Number} payée."
            : $"Paiement de {Fr.Money(Input.Amount)} enregistré. Reste à payer : {Fr.Money(result.Invoice.Total - InvoiceWorkflow.Paid(result.Invoice))}.",
            "/Billing/Details", new { id = Id });
    }

    private async Task<bool> LoadAsync()
    {
        var invoice = await db.Invoices.AsNoTracking().Include(i => i.Patient).Include(i => i.Payments).SingleOrDefaultAsync(i => i.Id == Id);
        if (invoice is null) return false;
        Invoice = invoice;
        Due = invoice.Total - InvoiceWorkflow.Paid(invoice);
        return true;
    }
}
