using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Access;

/// <summary>
/// OWASP "Slow down online guessing attacks with device cookies": a successful login leaves a long-lived, signed
/// (Data Protection), HttpOnly cookie bound to the key that succeeded. Attempts that present a valid one for the
/// submitted key are throttled in their own bucket (<see cref="LoginThrottle"/>), so failures from elsewhere never
/// lock the patient's phone. The cookie holds the key's keyed hash and an expiry, never the key.
/// </summary>
public sealed class DeviceCookies(IDataProtectionProvider dataProtection, CredentialProtector credentials, IOptions<PortalOptions> options, TimeProvider time)
{
    public const string CookieName = "__Host-cimef_device";
    private readonly IDataProtector _protector = dataProtection.CreateProtector("Cimef.PatientDevice.v1");

    /// <summary>True when the request carries an unexpired device cookie issued for this (normalised) key.</summary>
    public bool Recognises(HttpRequest request, string normalizedKey)
    {
        var value = request.Cookies[CookieName];
        if (string.IsNullOrEmpty(value) || value.Length > 1000) return false;
        string payload;
        try { payload = _protector.Unprotect(value); }
        catch (System.Security.Cryptography.CryptographicException) { return false; }
        var parts = payload.Split('|');
        return parts.Length == 2
               && long.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var expires)
               && expires > time.GetUtcNow().ToUnixTimeSeconds()
               && string.Equals(parts[0], credentials.KeyHash(normalizedKey), StringComparison.Ordinal);
    }

    /// <summary>« Oublier ce téléphone »: the phone is no longer recognised for any key.</summary>
    public static void Delete(HttpResponse response) =>
        response.Cookies.Delete(CookieName, new CookieOptions { HttpOnly = true, Secure = true, SameSite = SameSiteMode.Strict, Path = "/" });

    public void Issue(HttpResponse response, string normalizedKey)
    {
        var lifetime = TimeSpan.FromDays(options.Value.DeviceCookieDays);
        var expires = time.GetUtcNow() + lifetime;
        var value = _protector.Protect($"{credentials.KeyHash(normalizedKey)}|{expires.ToUnixTimeSeconds()}");
        response.Cookies.Append(CookieName, value, new CookieOptions
        {
            HttpOnly = true,
            Secure = true,
            SameSite = SameSiteMode.Strict,
            Path = "/",
            IsEssential = true,
            MaxAge = lifetime,
        });
    }
}
