using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.Billing.Exams;

/// <summary>Admin: the exam catalogue — list, add, deactivate/reactivate (prices in whole FCFA).</summary>
[Authorize(Policy = Policies.Admin)]
public class IndexModel(CimefDb db, TimeProvider time) : StaffPage
{
    [BindProperty] public ExamInput Input { get; set; } = new();
    public IReadOnlyList<Exam> Exams { get; private set; } = [];

    public async Task OnGetAsync() => Exams = await LoadAsync();

    public async Task<IActionResult> OnPostAsync()
    {
        var code = Input.Code?.Trim().ToUpperInvariant();
        if (ModelState.IsValid && await db.Exams.AnyAsync(e => e.Code == code))
            ModelState.AddModelError("Input.Code", $"Le code « {code} » existe déjà.");
        if (!ModelState.IsValid)
        {
            Exams = await LoadAsync();
            return Page();
        }
        var exam = new Exam { Code = code!, Name = Input.Name!.Trim(), Modality = Input.Modality!.Trim(), Price = Input.Price, IsActive = true };
        await using var tx = await db.Database.BeginTransactionAsync();
        db.Exams.Add(exam);
        await db.SaveChangesAsync();
        Audit.Staff(db, User, time.GetUtcNow().UtcDateTime, "exam.create", "Exam", exam.Id, $"{exam.Code} {exam.Name} {Fr.Money(exam.Price)}");
        await db.SaveChangesAsync();
        await tx.CommitAsync();
        return Done($"Examen « {exam.Name} » ajouté.");
    }

    public async Task<IActionResult> OnPostToggleAsync(int id)
    {
        var exam = await db.Exams.SingleOrDefaultAsync(e => e.Id == id);
        if (exam is null) return NotFound();
        exam.IsActive = !exam.IsActive;
        Audit.Staff(db, User, time.GetUtcNow().UtcDateTime, exam.IsActive ? "exam.activate" : "exam.deactivate", "Exam", exam.Id, exam.Code);
        await db.SaveChangesAsync();
        return Done(exam.IsActive ? $"Examen « {exam.Name} » réactivé." : $"Examen « {exam.Name} » désactivé : il n'est plus proposé sur les nouvelles factures.");
    }

    private async Task<IReadOnlyList<Exam>> LoadAsync() =>
        await db.Exams.AsNoTracking().OrderByDescending(e => e.IsActive).ThenBy(e => e.Modality).ThenBy(e => e.Name).ToListAsync();
}
