using System.Security.Cryptography;
using System.Text;

namespace Cimef.Site.Access;

/// <summary>
/// Generates and normalises patient credentials. Key: 12 characters A-Z0-9, password: 8 characters a-z0-9,
/// both without the characters patients confuse when reading from a phone or paper (O/0, I/1/L).
/// </summary>
public static class CredentialGenerator
{
    public const int KeyLength = 12;
    public const int PasswordLength = 8;
    public const string KeyAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    public const string PasswordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";

    public static string NewKey() => RandomNumberGenerator.GetString(KeyAlphabet, KeyLength);
    public static string NewPassword() => RandomNumberGenerator.GetString(PasswordAlphabet, PasswordLength);

    /// <summary>Upper-cases and drops spaces and dashes: "abcd-efgh jkmn" → "ABCDEFGHJKMN". Other characters are kept (and will not match).</summary>
    public static string NormalizeKey(string? input)
    {
        if (string.IsNullOrEmpty(input)) return "";
        var sb = new StringBuilder(input.Length);
        foreach (var c in input)
        {
            if (c is ' ' or '-' or '\u00A0' or '\t') continue;
            sb.Append(char.ToUpperInvariant(c));
            if (sb.Length > 40) break; // never keep more than a bounded amount of attacker input
        }
        return sb.ToString();
    }

    public static string NormalizePassword(string? input) => (input ?? "").Trim().ToLowerInvariant();

    /// <summary>12 characters of <see cref="KeyAlphabet"/>: anything else can never match and costs no database work.</summary>
    public static bool IsWellFormedKey(string normalized) =>
        normalized.Length == KeyLength && normalized.All(c => KeyAlphabet.Contains(c));

    public static bool IsWellFormedPassword(string normalized) =>
        normalized.Length == PasswordLength && normalized.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9');

    /// <summary>"ABCDEFGHJKMN" → "ABCD-EFGH-JKMN" (for print and screen).</summary>
    public static string FormatKey(string key) =>
        key.Length == KeyLength ? $"{key[..4]}-{key[4..8]}-{key[8..]}" : key;

    /// <summary>The only part of a key that may appear in events and logs.</summary>
    public static string Suffix(string? key) => string.IsNullOrEmpty(key) ? "" : key.Length <= 4 ? key : key[^4..];
}
