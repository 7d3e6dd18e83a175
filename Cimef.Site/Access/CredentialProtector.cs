using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Access;

/// <summary>
/// Password storage per DESIGN §5: a keyed hash (HMAC-SHA256, secret kept beside the Data Protection key ring,
/// never in the database) for verification, and a Data Protection-encrypted copy for re-printing.
/// </summary>
public sealed class CredentialProtector
{
    private const string SecretFileName = "credential-hmac.secret";
    private readonly byte[] _secret;
    private readonly byte[] _keySecret;
    private readonly IDataProtector _protector;

    public CredentialProtector(IOptions<StorageOptions> storage, IDataProtectionProvider dataProtection)
    {
        _secret = LoadOrCreateSecret(storage.Value.KeysDirectory);
        // A derived key, so a key hash can never be confused with (or tested against) a password hash.
        _keySecret = HKDF.DeriveKey(HashAlgorithmName.SHA256, _secret, 32, info: Encoding.UTF8.GetBytes("Cimef.LoginFailure.Key.v1"));
        _protector = dataProtection.CreateProtector("Cimef.PatientAccess.Password.v1");
    }

    public byte[] Hash(string password) =>
        HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes(CredentialGenerator.NormalizePassword(password)));

    /// <summary>
    /// Keyed hash of a normalised access key (128 bits, hex) for the failure table: whoever reads the database
    /// cannot recover the keys that were tried, and cannot test a guess without the secret.
    /// </summary>
    public string KeyHash(string normalizedKey) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_keySecret, Encoding.UTF8.GetBytes(normalizedKey)), 0, 16);

    /// <summary>Constant-time comparison. Pass <c>null</c> for an unknown key: the same work is done.</summary>
    public bool Verify(string password, byte[]? storedHash)
    {
        var computed = Hash(password);
        var expected = storedHash is { Length: 32 } ? storedHash : new byte[32];
        var equal = CryptographicOperations.FixedTimeEquals(computed, expected);
        return equal && storedHash is { Length: 32 };
    }

    public string Protect(string password) => _protector.Protect(password);

    public string Unprotect(string protectedPassword) => _protector.Unprotect(protectedPassword);

    private static byte[] LoadOrCreateSecret(string keysDirectory)
    {
        Directory.CreateDirectory(keysDirectory);
        var path = Path.Combine(keysDirectory, SecretFileName);
        if (File.Exists(path)) return Convert.FromBase64String(File.ReadAllText(path).Trim());
        var secret = RandomNumberGenerator.GetBytes(32);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, Convert.ToBase64String(secret));
        try
        {
            File.Move(tmp, path, overwrite: false);
        }
        catch (IOException)
        {
            // Another process (CLI beside the running site) created it first: use theirs.
            File.Delete(tmp);
            return Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return secret;
    }
}
