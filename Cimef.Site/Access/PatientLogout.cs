using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;

namespace Cimef.Site.Access;

/// <summary>Ends the server-side session (a replayed cookie is refused afterwards) and forgets the cookie: the logout page and the JSON API.</summary>
public static class PatientLogout
{
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
