using Cimef.Site.Data;
using Cimef.Site.FrontDesk;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Pages.Patients;

/// <summary>Front desk: register a patient (phone normalised, duplicates warned before saving).</summary>
[Authorize(Policy = Policies.FrontDesk)]
public class CreateModel(CimefDb db, PatientRegistration registration, TimeProvider time, ClinicClock clock) : StaffPage, IPatientFormPage
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

        var (patient, _) = await registration.RegisterAsync(clean, User);
        return Done($"Patient {patient.FullName} enregistré." + (Phones.CanReceiveSms(patient.Phone) ? "" : " " + Phones.NoSms),
            "/Patients/Details", new { id = patient.Id });
    }
}
