using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.Billing;

/// <summary>Cash desk: the payments of one (clinic-local) day with totals per method; reversed payments listed apart.</summary>
[Authorize(Policy = Policies.Payments)]
public class PaymentsModel(CimefDb db, ClinicClock clock) : PageModel
{
    public sealed record Row(int InvoiceId, string Number, string Patient, DateTime At, int Amount, PaymentMethod Method, string ReceivedBy, bool Reversed);

    [BindProperty(SupportsGet = true, Name = "date")] public DateOnly? Date { get; set; }
    public DateOnly Day { get; private set; }
    public IReadOnlyList<Row> Rows { get; private set; } = [];
    public IReadOnlyList<(PaymentMethod Method, int Count, int Total)> Totals { get; private set; } = [];
    public int GrandTotal { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        Day = Date ?? clock.Today;
        // A date that did not bind (out of range, not a date) shows its message, not another day's payments.
        if (!ModelState.IsValid) return this.PageOrPartial("_PaymentRows");
        // The clinic's day as a UTC range (the index on Payment.At is used).
        var from = clock.DayStartUtc(Day);
        var to = clock.DayStartUtc(Day.AddDays(1));
        Rows = await db.Payments.AsNoTracking().Where(p => p.At >= from && p.At < to).OrderBy(p => p.At)
            .Select(p => new Row(p.InvoiceId, p.Invoice.Number, p.Invoice.Patient.FullName, p.At, p.Amount, p.Method, p.ReceivedBy, p.ReversedAt != null))
            .ToListAsync();
        Totals = Rows.Where(r => !r.Reversed).GroupBy(r => r.Method).OrderBy(g => g.Key)
            .Select(g => (g.Key, g.Count(), g.Sum(r => r.Amount))).ToList();
        GrandTotal = Totals.Sum(t => t.Total);
        return this.PageOrPartial("_PaymentRows");
    }
}
