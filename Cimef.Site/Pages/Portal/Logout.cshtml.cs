using Cimef.Site.Access;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Cimef.Site.Pages.Portal;

/// <summary>Ends the server-side session (a replayed cookie is refused afterwards) and forgets the cookie.</summary>
public class LogoutModel(CimefDb db, PatientSessions sessions, TimeProvider time) : PageModel
{
    public IActionResult OnGet() => Redirect("/patient");

    public async Task<IActionResult> OnPostAsync()
    {
        await EndAsync(HttpContext, db, sessions, time);
        return Redirect("/patient");
    }

    /// <summary>Shared with the JSON API's logout.</summary>
    public static async Task EndAsync(HttpContext http, CimefDb db, PatientSessions sessions, TimeProvider time)
    {
        var accessId = await sessions.EndAsync(http.Request, "logout", http.RequestAborted);
        if (accessId is not null)
        {
            Audit.Patient(db, http, time.GetUtcNow().UtcDateTime, AccessEventKinds.Logout, accessId);
            await db.SaveChangesAsync(http.RequestAborted);
        }
        PatientSessions.DeleteCookie(http.Response);
        http.Response.Headers.CacheControl = "no-store";
    }
}
