using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Invoicing;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.Patients;

/// <summary>Front desk: one patient with invoices, payments, portal access status and reports.</summary>
[Authorize(Policy = Policies.FrontDesk)]
public class DetailsModel(CimefDb db) : PageModel
{
    public sealed record InvoiceRow(int Id, string Number, InvoiceStatus Status, DateTime CreatedAt, int Total, int Paid);
    public sealed record PaymentRow(string InvoiceNumber, int InvoiceId, DateTime At, int Amount, PaymentMethod Method, bool Reversed);
    public sealed record ReportRow(string Title, DateTime CreatedAt, bool IsActive, int DownloadCount);

    public Patient Patient { get; private set; } = null!;
    public PatientAccess? Access { get; private set; }
    public IReadOnlyList<InvoiceRow> Invoices { get; private set; } = [];
    public IReadOnlyList<PaymentRow> Payments { get; private set; } = [];
    public IReadOnlyList<ReportRow> Reports { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(int id)
    {
        var patient = await db.Patients.AsNoTracking().Include(p => p.Access).SingleOrDefaultAsync(p => p.Id == id);
        if (patient is null) return NotFound();
        Patient = patient;
        Access = patient.Access;
        var invoices = await db.Invoices.AsNoTracking().Where(i => i.PatientId == id).Include(i => i.Payments)
            .OrderByDescending(i => i.CreatedAt).ToListAsync();
        Invoices = invoices.Select(i => new InvoiceRow(i.Id, i.Number, i.Status, i.CreatedAt, i.Total, InvoiceWorkflow.Paid(i))).ToList();
        Payments = invoices.SelectMany(i => i.Payments.Select(p => new PaymentRow(i.Number, i.Id, p.At, p.Amount, p.Method, p.ReversedAt != null)))
            .OrderByDescending(p => p.At).ToList();
        Reports = Access is null ? [] : await db.PatientReports.AsNoTracking().Where(r => r.PatientAccessId == Access.Id)
            .OrderByDescending(r => r.CreatedAt)
            .Select(r => new ReportRow(r.Title, r.CreatedAt, r.IsActive, r.DownloadCount)).ToListAsync();
        return Page();
    }
}
