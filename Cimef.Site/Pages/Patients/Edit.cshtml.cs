using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.FrontDesk;
using Cimef.Site.Languages;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.Patients;

/// <summary>Front desk: correct a patient's identity and contact details (audited with the changed fields).</summary>
[Authorize(Policy = Policies.FrontDesk)]
public class EditModel(CimefDb db, TimeProvider time, ClinicClock clock) : StaffPage, IPatientFormPage
{
    [BindProperty] public PatientForm Input { get; set; } = new();
    public IReadOnlyList<PatientRules.Duplicate> Duplicates { get; private set; } = [];
    public string FormAction => $"/Patients/Edit/{Id}";
    [FromRoute] public int Id { get; set; }

    public async Task<IActionResult> OnGetAsync()
    {
        var p = await db.Patients.AsNoTracking().SingleOrDefaultAsync(x => x.Id == Id);
        if (p is null) return NotFound();
        Input = new PatientForm { FullName = p.FullName, Phone = p.Phone, Email = p.Email, DateOfBirth = p.DateOfBirth, Language = p.Language };
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var patient = await db.Patients.SingleOrDefaultAsync(x => x.Id == Id);
        if (patient is null) return NotFound();
        var now = time.GetUtcNow().UtcDateTime;
        var (clean, duplicates) = await Input.CheckAsync(db, ModelState, clock.Today, Id);
        Duplicates = duplicates;
        if (clean is null) return this.PageOrPartial("_Form");

        var changed = new List<string>();
        if (patient.FullName != clean.FullName) changed.Add("nom");
        if (patient.Phone != clean.Phone) changed.Add("téléphone");
        if (patient.Email != clean.Email) changed.Add("e-mail");
        if (patient.DateOfBirth != clean.DateOfBirth) changed.Add("date de naissance");
        if (PatientLanguages.Changes(patient.Language, clean.Language)) changed.Add("langue des messages");
        patient.FullName = clean.FullName;
        patient.SearchName = Text.SearchForm(clean.FullName);
        patient.Phone = clean.Phone;
        patient.Email = clean.Email;
        patient.DateOfBirth = clean.DateOfBirth;
        if (PatientLanguages.Changes(patient.Language, clean.Language)) patient.Language = clean.Language;
        if (changed.Count > 0)
        {
            Audit.Staff(db, User, now, "patient.update", "Patient", patient.Id, "modifié : " + string.Join(", ", changed));
            await db.SaveChangesAsync();
        }
        return Done((changed.Count > 0 ? $"Patient {patient.FullName} mis à jour." : "Aucune modification.")
            + (Phones.CanReceiveSms(patient.Phone) ? "" : " " + Phones.NoSms),
            "/Patients/Details", new { id = patient.Id });
    }
}
