using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.FrontDesk;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Pages.Patients;

/// <summary>Front desk: register a patient (phone normalised, duplicates warned before saving).</summary>
[Authorize(Policy = Policies.FrontDesk)]
public class CreateModel(CimefDb db, TimeProvider time, ClinicClock clock) : PageModel, IPatientFormPage
{
    [BindProperty] public PatientForm Input { get; set; } = new();
    public IReadOnlyList<PatientRules.Duplicate> Duplicates { get; private set; } = [];
    public string FormAction => "/Patients/Create";

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync()
    {
        var now = time.GetUtcNow().UtcDateTime;
        var (clean, duplicates) = await Input.CheckAsync(db, ModelState, clock.Today, null);
        Duplicates = duplicates;
        if (clean is null) return this.PageOrPartial("_Form");

        var patient = new Patient
        {
            FullName = clean.FullName,
            SearchName = Text.SearchForm(clean.FullName),
            Phone = clean.Phone,
            Email = clean.Email,
            DateOfBirth = clean.DateOfBirth,
            CreatedAt = now,
            CreatedBy = User.Identity?.Name ?? "",
        };
        await using var tx = await db.Database.BeginTransactionAsync();
        db.Patients.Add(patient);
        await db.SaveChangesAsync();
        Audit.Staff(db, User, now, "patient.create", "Patient", patient.Id,
            duplicates.Count > 0 ? $"doublon confirmé (patients {string.Join(", ", duplicates.Select(d => d.Id))})" : null);
        await db.SaveChangesAsync();
        await tx.CommitAsync();
        TempData["StatusMessage"] = $"Patient {patient.FullName} enregistré."
            + (Phones.CanReceiveSms(patient.Phone) ? "" : " " + Phones.NoSms);
        return this.RedirectOrHx($"/Patients/Details/{patient.Id}");
    }
}
