using Cimef.Site.Access;

namespace Cimef.Site.Portal;

/// <summary>
/// A patient's access key where it enters (a login, a recovery, a staff unlock): normalised once and, when well formed,
/// its keyed hash computed once (<see cref="CredentialProtector.KeyHash"/>). The throttle bucket, the device cookie and
/// the phone cookie all take the same hash; events keep only the suffix. A malformed key has no hash: it never reaches
/// the throttle or a cookie.
/// </summary>
public sealed class LoginKey
{
    private readonly string? _hash;

    private LoginKey(string text, string? hash)
    {
        Text = text;
        _hash = hash;
    }

    /// <summary>The normalised key (<see cref="CredentialGenerator.NormalizeKey"/>).</summary>
    public string Text { get; }

    public bool IsWellFormed => _hash is not null;

    public string Hash => _hash ?? throw new InvalidOperationException("Une clé mal formée n'a pas d'empreinte.");

    /// <summary>The only part of the key events may show.</summary>
    public string Suffix => CredentialGenerator.Suffix(Text);

    public static LoginKey Of(string? submitted, CredentialProtector protector)
    {
        var text = CredentialGenerator.NormalizeKey(submitted);
        return new LoginKey(text, CredentialGenerator.IsWellFormedKey(text) ? protector.KeyHash(text) : null);
    }
}
