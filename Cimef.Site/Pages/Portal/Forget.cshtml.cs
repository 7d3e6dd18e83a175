using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Languages;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Cimef.Site.Portal;

namespace Cimef.Site.Pages.Portal;

/// <summary>
/// « Oublier ce téléphone », from the login page and the dashboard: forgets every remembered key (the
/// phone cookie and the throttle's device cookie are deleted), ends every session opened from this phone (its
/// DeviceHash) and the one this browser holds, one <see cref="AccessEventKinds.PhoneForgotten"/> event per ended
/// session, and asks the browser to erase its cache and storage (offline report copies, service worker).
/// </summary>
[EnableRateLimiting(RateLimits.PatientLogin)]
public class ForgetModel(CimefDb db, PhoneCookies phones, TimeProvider time) : PageModel
{
    /// <summary>The TempData entry the login page shows once after the redirect.</summary>
    public const string MessageKey = "phone_forgotten";
    public const string EndReason = "phone_forgotten";

    public IActionResult OnGet() => Redirect(PatientRoutes.Login);

    public async Task<IActionResult> OnPostAsync()
    {
        var deviceHash = phones.Read(Request)?.DeviceHash;
        var token = Request.Cookies[PatientSessions.CookieName];
        var tokenHash = string.IsNullOrEmpty(token) || token.Length > 100 ? null : PatientSessions.Hash(token);
        var now = time.GetUtcNow().UtcDateTime;
        var ended = await db.PatientSessions
            .Where(s => s.EndedAt == null && ((deviceHash != null && s.DeviceHash == deviceHash) || (tokenHash != null && s.TokenHash == tokenHash)))
            .ToListAsync(HttpContext.RequestAborted);
        foreach (var session in ended)
        {
            session.EndedAt = now;
            session.EndReason = EndReason;
            Audit.Patient(db, HttpContext, now, AccessEventKinds.PhoneForgotten, session.PatientAccessId, detail: "session ouverte depuis ce téléphone terminée");
        }
        // A phone with nothing open is still audited once; a request with no phone and no session writes nothing.
        if (ended.Count == 0 && deviceHash is not null)
            Audit.Patient(db, HttpContext, now, AccessEventKinds.PhoneForgotten, null, detail: "aucune session ouverte depuis ce téléphone");
        if (ended.Count > 0 || deviceHash is not null) await db.SaveChangesAsync(HttpContext.RequestAborted);

        PhoneCookies.Delete(Response);
        DeviceCookies.Delete(Response);
        PatientSessions.DeleteCookie(Response);
        Response.Headers["Clear-Site-Data"] = "\"cache\", \"storage\"";
        Response.Headers.CacheControl = "no-store";
        TempData[MessageKey] = PatientText.Get("phone_forgotten");
        return Redirect(PatientRoutes.Login);
    }
}
