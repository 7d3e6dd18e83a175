using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Invoicing;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.Billing;

/// <summary>Billing: open a draft invoice for a patient (optionally with its first exam); lines are then edited on the invoice page.</summary>
[Authorize(Policy = Policies.Billing)]
public class CreateModel(CimefDb db, InvoiceWorkflow workflow) : StaffPage
{
    public sealed class InputModel
    {
        public string? ExamCode { get; set; }
        public int Quantity { get; set; } = 1;
    }

    [BindProperty(SupportsGet = true)] public int PatientId { get; set; }
    [BindProperty] public InputModel Input { get; set; } = new();
    public Patient? Patient { get; private set; }
    public IReadOnlyList<Exam> Exams { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync()
    {
        if (!await LoadAsync()) return NotFound();
        if (!ModelState.IsValid) return Page();
        var lines = string.IsNullOrWhiteSpace(Input.ExamCode) ? [] : new List<InvoiceWorkflow.LineRequest> { new(Input.ExamCode, Input.Quantity) };
        var result = await workflow.CreateAsync(PatientId, lines, User);
        if (!result.Ok)
        {
            ModelState.AddModelError("", result.Error!);
            return Page();
        }
        return Done($"Facture {result.Invoice!.Number} créée (brouillon).", "/Billing/Details", new { id = result.Invoice.Id });
    }

    private async Task<bool> LoadAsync()
    {
        Patient = await db.Patients.AsNoTracking().SingleOrDefaultAsync(p => p.Id == PatientId);
        Exams = await db.Exams.AsNoTracking().Where(e => e.IsActive).OrderBy(e => e.Modality).ThenBy(e => e.Name).ToListAsync();
        return Patient is not null;
    }
}
