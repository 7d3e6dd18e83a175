using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Cimef.Site.Portal;

namespace Cimef.Site.Pages.Portal;

/// <summary>Ends the patient's session, then back to the login page.</summary>
public class LogoutModel(PatientSessions sessions) : PageModel
{
    public IActionResult OnGet() => Redirect(PatientRoutes.Login);

    public async Task<IActionResult> OnPostAsync()
    {
        await sessions.LogoutAsync(HttpContext);
        return Redirect(PatientRoutes.Login);
    }
}
