using Cimef.Site.Access;
using Cimef.Site.Data;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Pages.Portal;

/// <summary>Ends the patient's session, then back to the login page.</summary>
public class LogoutModel(CimefDb db, PatientSessions sessions, TimeProvider time) : PageModel
{
    public IActionResult OnGet() => Redirect("/patient");

    public async Task<IActionResult> OnPostAsync()
    {
        await PatientLogout.EndAsync(HttpContext, db, sessions, time);
        return Redirect("/patient");
    }
}
