using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.Billing.Exams;

/// <summary>Admin: change an exam's code, label, modality or price (existing invoice lines keep their own copy).</summary>
[Authorize(Policy = Policies.Admin)]
public class EditModel(CimefDb db, TimeProvider time) : StaffPage
{
    [FromRoute] public int Id { get; set; }
    [BindProperty] public ExamInput Input { get; set; } = new();

    public async Task<IActionResult> OnGetAsync()
    {
        var e = await db.Exams.AsNoTracking().SingleOrDefaultAsync(x => x.Id == Id);
        if (e is null) return NotFound();
        Input = new ExamInput { Code = e.Code, Name = e.Name, Modality = e.Modality, Price = e.Price };
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var exam = await db.Exams.SingleOrDefaultAsync(x => x.Id == Id);
        if (exam is null) return NotFound();
        var code = Input.Code?.Trim().ToUpperInvariant();
        if (ModelState.IsValid && await db.Exams.AnyAsync(e => e.Code == code && e.Id != Id))
            ModelState.AddModelError("Input.Code", $"Le code « {code} » existe déjà.");
        if (!ModelState.IsValid) return Page();
        var before = $"{exam.Code} {exam.Name} {Fr.Money(exam.Price)}";
        exam.Code = code!;
        exam.Name = Input.Name!.Trim();
        exam.Modality = Input.Modality!.Trim();
        exam.Price = Input.Price;
        Audit.Staff(db, User, time.GetUtcNow().UtcDateTime, "exam.update", "Exam", exam.Id, $"{before} → {exam.Code} {exam.Name} {Fr.Money(exam.Price)}");
        await db.SaveChangesAsync();
        return Done($"Examen « {exam.Name} » mis à jour.", "/Billing/Exams/Index");
    }
}
