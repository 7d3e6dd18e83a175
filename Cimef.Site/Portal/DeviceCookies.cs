using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Cimef.Site.Access;

namespace Cimef.Site.Portal;

/// <summary>
/// OWASP "Slow down online guessing attacks with device cookies": a successful login leaves a long-lived, signed
/// (Data Protection), HttpOnly cookie bound to what succeeded. Attempts that present a valid one are throttled in their
/// own bucket, so failures from elsewhere never lock the owner out of their device: the patient's phone for the key
/// (<see cref="LoginThrottle"/>), a staff member's computer for their account (<see cref="StaffLockout"/>). The
/// patient cookie holds the key's keyed hash and an expiry, never the key; the staff one the account's id and an expiry.
/// </summary>
public sealed class DeviceCookies(IDataProtectionProvider dataProtection, IOptions<PortalOptions> options, TimeProvider time)
{
    public const string CookieName = "__Host-cimef_device";
    public const string StaffCookieName = "__Host-cimef_staff_device";
    private readonly IDataProtector _protector = dataProtection.CreateProtector("Cimef.PatientDevice.v1");
    private readonly IDataProtector _staffProtector = dataProtection.CreateProtector("Cimef.StaffDevice.v1");

    /// <summary>True when the request carries an unexpired device cookie issued for this key.</summary>
    public bool Recognises(HttpRequest request, LoginKey key) => Recognises(request, CookieName, _protector, key.Hash);

    /// <summary>True when the request carries an unexpired staff device cookie issued at a sign-in of this account.</summary>
    public bool RecognisesStaff(HttpRequest request, string userId) => Recognises(request, StaffCookieName, _staffProtector, userId);

    /// <summary>« Oublier ce téléphone »: the phone is no longer recognised for any key.</summary>
    public static void Delete(HttpResponse response) =>
        response.Cookies.Delete(CookieName, new CookieOptions { HttpOnly = true, Secure = true, SameSite = SameSiteMode.Strict, Path = "/" });

    public void Issue(HttpResponse response, LoginKey key) => Issue(response, CookieName, _protector, key.Hash);

    public void IssueStaff(HttpResponse response, string userId) => Issue(response, StaffCookieName, _staffProtector, userId);

    private bool Recognises(HttpRequest request, string cookieName, IDataProtector protector, string subject)
    {
        var value = request.Cookies[cookieName];
        if (string.IsNullOrEmpty(value) || value.Length > 1000) return false;
        string payload;
        try { payload = protector.Unprotect(value); }
        catch (System.Security.Cryptography.CryptographicException) { return false; }
        var parts = payload.Split('|');
        return parts.Length == 2
               && long.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var expires)
               && expires > time.GetUtcNow().ToUnixTimeSeconds()
               && string.Equals(parts[0], subject, StringComparison.Ordinal);
    }

    private void Issue(HttpResponse response, string cookieName, IDataProtector protector, string subject)
    {
        var lifetime = TimeSpan.FromDays(options.Value.DeviceCookieDays);
        var expires = time.GetUtcNow() + lifetime;
        var value = protector.Protect($"{subject}|{expires.ToUnixTimeSeconds()}");
        response.Cookies.Append(cookieName, value, Web.HostCookies.Options(lifetime));
    }
}
