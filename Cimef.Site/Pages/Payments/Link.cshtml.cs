using Cimef.Site.Data;
using Cimef.Site.Payments;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.Payments;

/// <summary>
/// The payment link in the patient's SMS and on the invoice QR: while the checkout is payable it sends the phone on to
/// the provider's page; once the invoice has moved on (paid, cancelled, new balance, link expired) it says so in French
/// (410; 404 for a link that never existed). Anonymous, no patient data.
/// </summary>
public class LinkModel(CimefDb db, TimeProvider time) : PageModel
{
    public async Task<IActionResult> OnGetAsync(string provider, string checkoutId)
    {
        Response.Headers.CacheControl = "no-store";
        var known = provider.Length <= 20 && checkoutId.Length <= 100;
        var launch = known ? await PaymentLinks.LaunchUrlAsync(db, provider, checkoutId, time.GetUtcNow().UtcDateTime, HttpContext.RequestAborted) : null;
        if (launch is not null) return Redirect(launch);
        var exists = known && await db.PaymentCheckouts.AnyAsync(c => c.Provider == provider && c.CheckoutId == checkoutId, HttpContext.RequestAborted);
        Response.StatusCode = exists ? StatusCodes.Status410Gone : StatusCodes.Status404NotFound;
        return Page();
    }
}
