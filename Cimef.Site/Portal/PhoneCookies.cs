using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Cimef.Site.Access;

namespace Cimef.Site.Portal;

/// <summary>
/// One phone, several patients: a signed (Data Protection), HttpOnly, <c>__Host-</c> cookie issued after
/// every successful patient login. It carries the phone's random device id (sessions opened from it store its
/// SHA-256, so « Oublier ce téléphone » can end them) and up to <see cref="MaxKeys"/> remembered keys — each the
/// access id, the key's keyed hash, the patient's initials and the key's last 4 characters, never the key. A
/// tampered, expired, oversized or malformed cookie reads as absent. Kept apart from the throttle's
/// <see cref="DeviceCookies"/> (one key, the last that succeeded); a remembered key counts as recognised there too.
/// </summary>
public sealed class PhoneCookies(IDataProtectionProvider dataProtection, CredentialProtector credentials, IOptions<PortalOptions> options, TimeProvider time)
{
    public const string CookieName = "__Host-cimef_phone";
    public const int MaxKeys = 5;
    /// <summary>Five entries protect to about 700 characters; anything much longer was not written by us.</summary>
    private const int MaxCookieLength = 3000;
    private readonly IDataProtector _protector = dataProtection.CreateProtector("Cimef.PatientPhone.v1");

    /// <summary>A remembered key: the access, its key's keyed hash, « A. D. » and the key's last 4 characters.</summary>
    public sealed record Entry(
        [property: JsonPropertyName("a")] int AccessId,
        [property: JsonPropertyName("h")] string KeyHash,
        [property: JsonPropertyName("i")] string Initials,
        [property: JsonPropertyName("s")] string Suffix);

    /// <summary>The cookie's content; <see cref="Keys"/> oldest first.</summary>
    public sealed record Phone(
        [property: JsonPropertyName("d")] string DeviceId,
        [property: JsonPropertyName("x")] long ExpiresUnix,
        [property: JsonPropertyName("k")] IReadOnlyList<Entry> Keys)
    {
        /// <summary>What PatientSession.DeviceHash stores for this phone.</summary>
        [JsonIgnore] public string DeviceHash => PatientSessions.Hash(DeviceId);

        public bool Remembers(LoginKey key) => Keys.Any(e => string.Equals(e.KeyHash, key.Hash, StringComparison.Ordinal));
    }

    /// <summary>The request's phone cookie, or null when absent, tampered, expired, oversized or malformed.</summary>
    public Phone? Read(HttpRequest request)
    {
        var value = request.Cookies[CookieName];
        if (string.IsNullOrEmpty(value) || value.Length > MaxCookieLength) return null;
        try
        {
            var phone = JsonSerializer.Deserialize<Phone>(_protector.Unprotect(value));
            return phone is { DeviceId.Length: > 0, Keys: not null } && phone.Keys.Count <= MaxKeys
                   && phone.Keys.All(e => e is { KeyHash: not null, Initials: not null, Suffix: not null })
                   && phone.ExpiresUnix > time.GetUtcNow().ToUnixTimeSeconds()
                ? phone
                : null;
        }
        catch (CryptographicException) { return null; }
        catch (JsonException) { return null; }
    }

    /// <summary>A phone seen for the first time: a fresh random device id, nothing remembered.</summary>
    public static Phone NewPhone() =>
        new(Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_'), 0, []);

    /// <summary>The phone with <paramref name="key"/> remembered as its newest entry (a 6th drops the oldest).</summary>
    public Phone Remember(Phone phone, int accessId, LoginKey key, string fullName)
    {
        var entry = new Entry(accessId, key.Hash, Initials(fullName), key.Suffix);
        var keys = phone.Keys.Where(e => e.AccessId != accessId).Append(entry).ToList();
        return phone with { Keys = keys.Skip(Math.Max(0, keys.Count - MaxKeys)).ToList() };
    }

    /// <summary>True when <paramref name="entry"/> still names the access's current key (not regenerated since).</summary>
    public bool Matches(Entry entry, string currentKey) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(entry.KeyHash), Encoding.ASCII.GetBytes(credentials.KeyHash(currentKey)));

    /// <summary>Writes the cookie with a fresh expiry (Portal:DeviceCookieDays).</summary>
    public void Issue(HttpResponse response, Phone phone)
    {
        var lifetime = TimeSpan.FromDays(options.Value.DeviceCookieDays);
        WriteCookie(response, phone with { ExpiresUnix = (time.GetUtcNow() + lifetime).ToUnixTimeSeconds() }, lifetime);
    }

    /// <summary>Writes the phone back with its entries pruned, keeping its expiry.</summary>
    public void Rewrite(HttpResponse response, Phone phone)
    {
        var left = DateTimeOffset.FromUnixTimeSeconds(phone.ExpiresUnix) - time.GetUtcNow();
        if (left > TimeSpan.Zero) WriteCookie(response, phone, left);
    }

    public static void Delete(HttpResponse response) => response.Cookies.Delete(CookieName, Options(null));

    private void WriteCookie(HttpResponse response, Phone phone, TimeSpan maxAge) =>
        response.Cookies.Append(CookieName, _protector.Protect(JsonSerializer.Serialize(phone)), Options(maxAge));

    private static CookieOptions Options(TimeSpan? maxAge) => Web.HostCookies.Options(maxAge);

    /// <summary>« Awa Ndiaye Diop » → « A. D. » (first and last names); one name → « A. ».</summary>
    public static string Initials(string fullName)
    {
        var words = fullName.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(w => char.IsLetter(w[0])).ToArray();
        if (words.Length == 0) return "?";
        static string Initial(string word) => char.ToUpperInvariant(word[0]) + ".";
        return words.Length == 1 ? Initial(words[0]) : $"{Initial(words[0])} {Initial(words[^1])}";
    }
}
